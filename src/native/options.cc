// Configuration checks (see options.h). Each message names the offending value so the operator
// can fix the flag without reading code.
#include "options.h"

#include "gamestream/video_seal.h"
#include "window_stats.h"

namespace pf {

namespace {
bool one_of(const std::string& v, std::initializer_list<const char*> allowed) {
  for (const char* a : allowed)
    if (v == a) return true;
  return false;
}
}  // namespace

std::string validate(const PipelineOptions& o) {
  if (o.stages.empty() || o.stages.size() > static_cast<size_t>(kMaxStages))
    return "a path has 1 to " + std::to_string(kMaxStages) + " stages, not " + std::to_string(o.stages.size());
  for (size_t i = 0; i < o.stages.size(); i++) {
    const Boundary b = stage_boundary(o.stages[i]);
    if (b == kDeadline) return "unknown stage '" + o.stages[i] + "'";
    if (i > 0 && b <= stage_boundary(o.stages[i - 1]))
      return "stage '" + o.stages[i] + "' comes before '" + o.stages[i - 1] + "' on a frame's path";
  }
  if (!one_of(o.source, {"synthetic", "static", "x11"}))
    return "unknown capture source '" + o.source + "' (synthetic, static or x11)";
  if (o.width <= 0 || o.height <= 0)
    return "resolution " + std::to_string(o.width) + "x" + std::to_string(o.height) + " must be positive";
  if (o.width % 2 != 0 || o.height % 2 != 0)
    return "resolution " + std::to_string(o.width) + "x" + std::to_string(o.height) +
           " must be even in both dimensions (4:2:0 chroma)";
  if (o.width > kMaxWidth || o.height > kMaxHeight)
    return "resolution " + std::to_string(o.width) + "x" + std::to_string(o.height) + " exceeds 8K (" +
           std::to_string(kMaxWidth) + "x" + std::to_string(kMaxHeight) + ")";
  if (o.fps <= 0 || o.fps > kMaxFps)
    return "frame rate " + std::to_string(o.fps) + " must be from 1 to " + std::to_string(kMaxFps);
  if (!one_of(o.codec, {"h264", "hevc"})) return "unknown codec '" + o.codec + "' (h264 or hevc)";
  if (!one_of(o.encoder, {"auto", "libx264", "libx265", "h264_nvenc", "hevc_nvenc"}))
    return "unknown encoder '" + o.encoder + "' (auto, libx264, libx265, h264_nvenc or hevc_nvenc)";
  const bool hevc_encoder = o.encoder == "libx265" || o.encoder == "hevc_nvenc";
  const bool h264_encoder = o.encoder == "libx264" || o.encoder == "h264_nvenc";
  if ((o.codec == "h264" && hevc_encoder) || (o.codec == "hevc" && h264_encoder))
    return "encoder " + o.encoder + " does not produce " + o.codec;
  if (o.bitrate_kbps <= 0) return "bitrate " + std::to_string(o.bitrate_kbps) + " kb/s must be positive";
  if (o.source == "x11" && o.display.empty()) return "x11 capture needs a display (PUNKTFUNK_DISPLAY or DISPLAY)";
  if (!one_of(o.priority, {"normal", "realtime"})) return "unknown frame priority '" + o.priority + "' (normal or realtime)";
  if (o.window_ms <= 0 || o.window_ms > 60000) return "window length " + std::to_string(o.window_ms) + " ms must be 1..60000";
  if (o.media.enabled) {
    if (o.media.port <= 0 || o.media.port > 65535) return "media port " + std::to_string(o.media.port) + " is not a port";
    if (o.media.mtu < 256 || o.media.mtu > 9000) return "media MTU " + std::to_string(o.media.mtu) + " must be 256..9000";
    if (o.media.fec_percent < 0 || o.media.fec_percent > 100) return "FEC share must be 0..100 %";
  }
  if (o.gamestream.enabled) {
    const GameStreamTarget& g = o.gamestream;
    // The packetizer runs on the frame thread and is timed as its own stage.
    bool packetize = false;
    for (const std::string& st : o.stages) packetize = packetize || st == "packetize";
    if (!packetize) return "the gamestream video target needs a path with a packetize stage";
    if (o.media.enabled) return "a session sends either punktfunk/1 media or GameStream video, not both";
    if (g.video_fd < 0) return "gamestream videoFd " + std::to_string(g.video_fd) + " is not an open socket";
    if (g.client_host.empty()) return "gamestream clientHost is empty";
    if (!g.ping_payload.empty() && g.ping_payload.size() != 16)
      return "gamestream pingPayload must be 16 characters or empty (legacy PING)";
    if (g.packet_size < 256 || g.packet_size > 4096)
      return "gamestream packetSize " + std::to_string(g.packet_size) + " must be 256..4096";
    if (g.fec_percent < 0 || g.fec_percent > 255) return "gamestream fecPercent must be 0..255";
    if (g.min_required_fec_packets < 0 || g.min_required_fec_packets > 255)
      return "gamestream minRequiredFecPackets must be 0..255";
    uint8_t key[gs::kVideoKeyBytes];
    if (!g.key_hex.empty() && !gs::parse_video_key(g.key_hex, key))
      return "gamestream keyHex must be 32 hex digits (the launch's AES-128 rikey)";
  }
  return "";
}

Boundary stage_boundary(const std::string& name) {
  if (name == "capture") return kCaptured;
  if (name == "submit") return kSubmitted;
  if (name == "encode") return kEncoded;
  if (name == "packetize") return kPacketized;
  if (name == "send") return kSent;
  return kDeadline;
}

}  // namespace pf

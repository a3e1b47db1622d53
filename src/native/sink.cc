// The send stage's destinations (see sink.h). The dump file is written with buffered stdio:
// it is a test aid, and a full-disk error there must not stall the frame loop, so write errors
// are ignored (the test that reads the dump would see the missing frames).
#include "sink.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstring>

namespace pf {

namespace {

bool parse_key(const std::string& hex, seal::Key* key) {
  if (hex.size() != 2 * (seal::kKeyBytes + seal::kSaltBytes)) return false;
  uint8_t bytes[seal::kKeyBytes + seal::kSaltBytes];
  for (size_t i = 0; i < sizeof bytes; i++) {
    unsigned v;
    if (std::sscanf(hex.c_str() + 2 * i, "%2x", &v) != 1) return false;
    bytes[i] = static_cast<uint8_t>(v);
  }
  std::memcpy(key->key, bytes, seal::kKeyBytes);
  std::memcpy(key->salt, bytes + seal::kKeyBytes, seal::kSaltBytes);
  return true;
}

bool resolve(const std::string& host, int port, sockaddr_storage* out, socklen_t* len) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || res == nullptr) return false;
  std::memcpy(out, res->ai_addr, res->ai_addrlen);
  *len = res->ai_addrlen;
  freeaddrinfo(res);
  return true;
}

}  // namespace

std::unique_ptr<Sink> Sink::open(const PipelineOptions& o, std::string* error) {
  std::unique_ptr<Sink> sink(new Sink());
  if (!o.dump_path.empty()) {
    sink->dump_ = std::fopen(o.dump_path.c_str(), "wb");
    if (sink->dump_ == nullptr) {
      *error = "cannot open the bitstream dump '" + o.dump_path + "': " + std::strerror(errno);
      return nullptr;
    }
  }
  if (o.media.enabled) {
    media::SenderConfig c;
    if (!parse_key(o.media.key_hex, &c.key)) {
      *error = "media key must be 40 hex digits";
      return nullptr;
    }
    if (!resolve(o.media.host, o.media.port, &c.dest, &c.dest_len)) {
      *error = "cannot resolve media destination '" + o.media.host + "'";
      return nullptr;
    }
    c.mtu = o.media.mtu;
    c.fec_percent = o.media.fec_percent;
    c.fps = o.fps;
    std::string why;
    sink->media_ = media::MediaSender::open(c, &why);
    if (sink->media_ == nullptr) {
      *error = "media sender: " + why;
      return nullptr;
    }
  }
  if (o.gamestream.enabled) {
    gs::VideoSenderConfig c;
    c.fd = o.gamestream.video_fd;
    c.client_host = o.gamestream.client_host;
    c.ping_payload = o.gamestream.ping_payload;
    c.packet_size = o.gamestream.packet_size;
    c.fec_percent = o.gamestream.fec_percent;
    c.min_parity = o.gamestream.min_required_fec_packets;
    c.fps = o.fps;
    c.hevc = o.codec == "hevc";
    c.encrypt = !o.gamestream.key_hex.empty();
    if (c.encrypt && !gs::parse_video_key(o.gamestream.key_hex, c.key)) {
      *error = "gamestream keyHex must be 32 hex digits";
      return nullptr;
    }
    std::string why;
    sink->video_ = gs::VideoSender::open(c, &why);
    if (sink->video_ == nullptr) {
      *error = "gamestream video sender: " + why;
      return nullptr;
    }
  }
  return sink;
}

Sink::~Sink() {
  video_.reset();
  media_.reset();
  if (dump_ != nullptr) std::fclose(dump_);
}

bool Sink::begin_frame(bool* want_idr) {
  *want_idr = false;
  deliver_ = video_ == nullptr || video_->begin_frame(want_idr);
  return deliver_;
}

void Sink::packetize(const EncodedFrame& frame, uint64_t capture_ns) {
  frame_packets_ = 0;
  if (video_ == nullptr || !deliver_) return;
  for (int i = 0; i < frame.count; i++) {
    const AVPacket* p = frame.packets[i];
    frame_packets_ += video_->packetize(p->data, static_cast<size_t>(p->size), (p->flags & AV_PKT_FLAG_KEY) != 0, capture_ns);
  }
}

void Sink::send(const EncodedFrame& frame, uint64_t capture_us) {
  if (video_ != nullptr) {
    if (deliver_) {
      video_->publish();
    } else {
      for (int i = 0; i < frame.count; i++) video_->count_unsent();
    }
  }
  for (int i = 0; i < frame.count; i++) {
    const AVPacket* p = frame.packets[i];
    if (dump_ != nullptr) std::fwrite(p->data, 1, static_cast<size_t>(p->size), dump_);
    if (media_ != nullptr) {
      media::SendSplit split;
      media_->send_frame(p->data, static_cast<size_t>(p->size), (p->flags & AV_PKT_FLAG_KEY) != 0, capture_us, &split);
      fec_ns_ += split.fec_ns;
      seal_ns_ += split.seal_ns;
      frame_packets_ += split.packets;
    }
  }
}

// What a client needs from a still screen (the frames the encoder skips: still_policy.h).
//
// GameStream (Moonlight, read in moonlight-common-c): the client tolerates any pause once it has
// decoded a frame — its only video timeouts are 10 s to the first packet and 10 s more to the
// first whole frame (VideoStream.c), and a session always starts with an IDR here, still or not.
// It counts loss from gaps in frame numbers, never from time, so a pause is not a "poor
// connection"; our frame numbers stay consecutive because a skipped frame is never packetized.
// But it notices a lost frame only when a later frame (or a later packet of that frame)
// arrives, and then asks at once for an IDR (or reference invalidation, answered with an IDR).
// So the last change of a burst lost on the network would stay broken on screen until the next
// change. A repeat every 100 ms bounds that: recovery within 100 ms plus a round trip, about what
// a moving stream gets. (That pace holds for a second after each new picture or key frame; then
// one repeat a second, see still_policy.h.) (Sunshine, for comparison, keeps encoding a still screen at a minimum
// rate, for picture quality; our refinement after each change covers that, see still_policy.h.)
// Cost: an encode of a picture the encoder already has — no conversion, but libx264 still
// analyses the whole picture: on a busy 2-core VM ≈ 5 ms per 720p keepalive of a detailed still
// picture (a plain desktop codes to a few dozen bytes and costs less). Ten a second would cost a
// ninth of a moving desktop; after the first second it is one a second (`npm run bench --
// x11-still`).
//
// punktfunk/1 (src/client): the same blindness — the receiver counts a frame dropped only when
// shards of a later frame arrive, and the client asks for an IDR at its once-a-second report
// (StreamLoop.ts); it has no timeout on video (reports go over the control connection either
// way). A repeat every 500 ms (for the first second, then one a second, as above) therefore
// makes a lost last change visible before the next report but one (at most 1.5 s); repeating
// faster would not bring the IDR sooner.
//
// No client (measurement or a dump file): nothing to keep alive; only refinement and requested
// key frames reach the encoder.
uint64_t Sink::still_keepalive_ns() const {
  if (video_ != nullptr) return 100'000'000ull;
  if (media_ != nullptr) return 500'000'000ull;
  return 0;
}

SinkCounters Sink::counters() const {
  SinkCounters c;
  if (media_ != nullptr) {
    const media::SenderCounters m = media_->counters();
    c.send_dropped = m.send_dropped;
    c.sock_ns = m.sock_ns;
    c.frames = m.frames;
    c.fec_ns = fec_ns_;
    c.seal_ns = seal_ns_;
  }
  if (video_ != nullptr) {
    c.video = video_->counters();
    c.send_dropped = c.video.send_dropped;
    c.sock_ns = c.video.sock_ns;
    c.fec_ns = c.video.fec_ns;
    c.seal_ns = c.video.seal_ns;
    c.frames = c.video.frames_sent;
    c.frames_unsent = c.video.frames_unsent;
  }
  return c;
}

}  // namespace pf

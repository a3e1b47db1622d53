// GameStream video known answers, exported by the test-only addon (never by punktfunk_native):
// - `gsFecEncode`: nanors-compatible parity of given shards;
// - `gsPacketizeFrame`: every datagram one access unit becomes, without a socket;
// - `gsPlanBlocks`: how a frame of N data shards is split into FEC blocks;
// - `gsVideoHeaders`: the 32 header bytes for given fields;
// - `gsPacketizeTimed`: the packetizer's own clock (benchmarks);
// - `gsSealVideoDatagram`: one datagram sealed as encrypted video is, for a given key, nonce
//   counter and stream.
// They call the same packetizer, parity and sealer the session's sender runs (compiled into this
// module from gamestream/), so a known answer here is the host's answer.
#include <napi.h>
#include <time.h>

#include <algorithm>
#include <string>
#include <vector>

#include "gamestream/gs_fec.h"
#include "gamestream/packet_ring.h"
#include "gamestream/video_packetizer.h"
#include "gamestream/video_seal.h"
#include "gamestream/video_wire.h"
#include "testing/test_hooks.h"

namespace pf::gs {
namespace {

int int_arg(const Napi::CallbackInfo& info, size_t i, int lo, int hi, const char* what) {
  if (info.Length() <= i || !info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number");
  const double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= lo && v <= hi) || v != static_cast<int>(v))
    throw Napi::RangeError::New(info.Env(), std::string(what) + " must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
  return static_cast<int>(v);
}

// gsFecEncode(shards: Uint8Array[], parityCount) → Uint8Array[] (equal-length data shards)
Napi::Value FecEncode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsArray()) throw Napi::TypeError::New(env, "gsFecEncode(shards, parityCount)");
  const Napi::Array in = info[0].As<Napi::Array>();
  const int k = static_cast<int>(in.Length());
  const int m = int_arg(info, 1, 1, fec::kMaxShards, "parityCount");
  if (k < 1 || k + m > fec::kMaxShards) throw Napi::RangeError::New(env, "need 1 ≤ data, data + parity ≤ 255");
  std::vector<std::vector<uint8_t>> data(static_cast<size_t>(k));
  size_t size = 0;
  for (int i = 0; i < k; i++) {
    const Napi::Value v = in.Get(static_cast<uint32_t>(i));
    if (!v.IsTypedArray()) throw Napi::TypeError::New(env, "shards must be Uint8Arrays");
    const Napi::Uint8Array a = v.As<Napi::Uint8Array>();
    if (i == 0) size = a.ByteLength();
    if (a.ByteLength() != size || size == 0) throw Napi::RangeError::New(env, "shards must be non-empty and of one length");
    data[static_cast<size_t>(i)].assign(a.Data(), a.Data() + size);
  }
  std::vector<std::vector<uint8_t>> parity(static_cast<size_t>(m), std::vector<uint8_t>(size));
  std::vector<const uint8_t*> dp;
  std::vector<uint8_t*> pp;
  for (auto& d : data) dp.push_back(d.data());
  for (auto& p : parity) pp.push_back(p.data());
  fec::encode(dp.data(), k, pp.data(), m, size);
  Napi::Array out = Napi::Array::New(env, static_cast<size_t>(m));
  for (int i = 0; i < m; i++) {
    Napi::Uint8Array a = Napi::Uint8Array::New(env, size);
    std::copy(parity[static_cast<size_t>(i)].begin(), parity[static_cast<size_t>(i)].end(), a.Data());
    out.Set(static_cast<uint32_t>(i), a);
  }
  return out;
}

struct PacketizeCall {
  PacketizerConfig config;
  bool idr = false;
  int frames = 1;
  uint32_t rtp_timestamp = 0;
  uint16_t latency = 0;
};

// The options gsPacketizeFrame and gsPacketizeTimed share.
PacketizeCall packetize_call(const Napi::CallbackInfo& info, const char* usage) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsObject()) throw Napi::TypeError::New(env, usage);
  const Napi::Object o = info[1].As<Napi::Object>();
  auto get = [&](const char* k, double d) { return o.Has(k) && o.Get(k).IsNumber() ? o.Get(k).As<Napi::Number>().DoubleValue() : d; };
  PacketizeCall call;
  PacketizerConfig& c = call.config;
  c.packet_size = static_cast<int>(get("packetSize", 1392));
  c.fec_percent = static_cast<int>(get("fecPercent", 20));
  c.min_parity = static_cast<int>(get("minRequiredFecPackets", 0));
  if (c.packet_size < 256 || c.packet_size > 4096 || c.fec_percent < 0 || c.fec_percent > 255 || c.min_parity < 0 || c.min_parity > 255)
    throw Napi::RangeError::New(env, "packetSize 256..4096, fecPercent 0..255, minRequiredFecPackets 0..255");
  c.hevc = o.Has("codec") && o.Get("codec").IsString() && o.Get("codec").As<Napi::String>().Utf8Value() == "hevc";
  call.idr = o.Has("idr") && o.Get("idr").ToBoolean().Value();
  call.frames = static_cast<int>(get("frames", 1));
  call.rtp_timestamp = static_cast<uint32_t>(get("rtpTimestamp", 0));
  call.latency = static_cast<uint16_t>(get("latency", 0));
  if (o.Has("keyHex") && !o.Get("keyHex").IsUndefined()) {
    if (!o.Get("keyHex").IsString() || !parse_video_key(o.Get("keyHex").As<Napi::String>().Utf8Value(), c.key))
      throw Napi::TypeError::New(env, "keyHex must be 32 hex digits");
    c.encrypt = true;
    c.nonce_stream = static_cast<uint32_t>(get("nonceStream", 0));
  }
  return call;
}

size_t slot_bytes_of(const PacketizerConfig& c) {
  return static_cast<size_t>(c.packet_size) + wire::kRtpBytes + (c.encrypt ? wire::kEncPrefixBytes : 0);
}

// gsPacketizeFrame(frame: Uint8Array, { packetSize, fecPercent, minRequiredFecPackets, idr,
//   rtpTimestamp, latency, frames, codec: "h264" | "hevc", keyHex, nonceStream }) → Uint8Array[]:
// the datagrams of `frames` consecutive packetizations of the same access unit (frame indices
// 1, 2, …), in send order; sealed as encrypted video when `keyHex` is given.
Napi::Value PacketizeFrame(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const PacketizeCall call = packetize_call(info, "gsPacketizeFrame(frame, options)");
  const Napi::Uint8Array frame = info[0].As<Napi::Uint8Array>();
  const PacketizerConfig& c = call.config;
  const bool idr = call.idr;
  const int frames = call.frames;
  PacketRing ring(8192, slot_bytes_of(c));
  VideoPacketizer packetizer(c, &ring);
  if (!packetizer.ok()) throw Napi::Error::New(env, "cannot set up AES-128-GCM");
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (int f = 0; f < frames; f++) {
    const PacketizeResult r = packetizer.packetize(frame.Data(), frame.ByteLength(), idr, call.rtp_timestamp, call.latency);
    if (r.frame_dropped) throw Napi::Error::New(env, "frame too large to packetize");
    const uint64_t head = ring.tail() + r.packets;
    for (uint64_t i = ring.tail(); i < head; i++) {
      Napi::Uint8Array a = Napi::Uint8Array::New(env, ring.slot_bytes());
      std::copy(ring.slot(i), ring.slot(i) + ring.slot_bytes(), a.Data());
      out.Set(n++, a);
    }
    ring.publish();
    ring.release_to(head);
  }
  return out;
}

// gsVideoHeaders({ seq, rtpTimestamp, streamPacketIndex, frameIndex, flags, block, lastBlock,
//   shardIndex, dataShards, fecPercent }, parity?: boolean) → the 32 header bytes as written
Napi::Value VideoHeaders(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "gsVideoHeaders(fields, parity?)");
  const Napi::Object o = info[0].As<Napi::Object>();
  auto get = [&](const char* k) { return o.Has(k) && o.Get(k).IsNumber() ? o.Get(k).As<Napi::Number>().DoubleValue() : 0.0; };
  wire::PacketFields f;
  f.seq = static_cast<uint16_t>(get("seq"));
  f.rtp_timestamp = static_cast<uint32_t>(get("rtpTimestamp"));
  f.stream_packet_index = static_cast<uint32_t>(get("streamPacketIndex"));
  f.frame_index = static_cast<uint32_t>(get("frameIndex"));
  f.flags = static_cast<uint8_t>(get("flags"));
  f.block = static_cast<int>(get("block")) & 3;
  f.last_block = static_cast<int>(get("lastBlock")) & 3;
  f.shard_index = static_cast<int>(get("shardIndex")) & 0x3ff;
  f.data_shards = static_cast<int>(get("dataShards")) & 0x3ff;
  f.fec_percent = static_cast<int>(get("fecPercent")) & 0xff;
  Napi::Uint8Array out = Napi::Uint8Array::New(env, wire::kHeadersBytes);
  std::fill(out.Data(), out.Data() + wire::kHeadersBytes, 0);
  if (info.Length() > 1 && info[1].ToBoolean().Value()) {
    wire::write_parity_headers(out.Data(), f);
  } else {
    wire::write_data_headers(out.Data(), f);
  }
  return out;
}

// gsPacketizeTimed(frame, options) → { packets, fec_ns, seal_ns, total_ns }: the work of
// gsPacketizeFrame for `frames` packetizations (one ring, made before the clock starts), timed
// on the C++ clock and without copying datagrams out: the packetizer's cost as the frame thread
// pays it (benchmarks).
Napi::Value PacketizeTimed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const PacketizeCall call = packetize_call(info, "gsPacketizeTimed(frame, options)");
  const Napi::Uint8Array frame = info[0].As<Napi::Uint8Array>();
  PacketRing ring(8192, slot_bytes_of(call.config));
  VideoPacketizer packetizer(call.config, &ring);
  if (!packetizer.ok()) throw Napi::Error::New(env, "cannot set up AES-128-GCM");
  uint64_t packets = 0, fec_ns = 0, seal_ns = 0, total_ns = 0;
  for (int f = 0; f < call.frames; f++) {
    timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const PacketizeResult r = packetizer.packetize(frame.Data(), frame.ByteLength(), call.idr, call.rtp_timestamp, call.latency);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (r.frame_dropped) throw Napi::Error::New(env, "frame too large to packetize");
    total_ns += static_cast<uint64_t>((t1.tv_sec - t0.tv_sec) * 1000000000ll + (t1.tv_nsec - t0.tv_nsec));
    packets += r.packets;
    fec_ns += r.fec_ns;
    seal_ns += r.seal_ns;
    const uint64_t head = ring.tail() + r.packets;
    ring.publish();
    ring.release_to(head);
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("packets", static_cast<double>(packets));
  o.Set("fec_ns", static_cast<double>(fec_ns));
  o.Set("seal_ns", static_cast<double>(seal_ns));
  o.Set("total_ns", static_cast<double>(total_ns));
  return o;
}

// gsSealVideoDatagram(keyHex, plain: Uint8Array, { counter, stream, frameIndex }) → Uint8Array:
// the 32-byte prefix (nonce, frameIndex, tag) and the ciphertext of `plain`. `counter` up to 2^53.
Napi::Value SealVideoDatagram(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsTypedArray() || !info[2].IsObject())
    throw Napi::TypeError::New(env, "gsSealVideoDatagram(keyHex, plain, { counter, stream, frameIndex })");
  uint8_t key[kVideoKeyBytes];
  if (!parse_video_key(info[0].As<Napi::String>().Utf8Value(), key)) throw Napi::TypeError::New(env, "keyHex must be 32 hex digits");
  const Napi::Uint8Array plain = info[1].As<Napi::Uint8Array>();
  const Napi::Object o = info[2].As<Napi::Object>();
  auto get = [&](const char* k) { return o.Has(k) && o.Get(k).IsNumber() ? o.Get(k).As<Napi::Number>().DoubleValue() : 0.0; };
  VideoSealer sealer(key, static_cast<uint32_t>(get("stream")), static_cast<uint64_t>(get("counter")));
  Napi::Uint8Array out = Napi::Uint8Array::New(env, wire::kEncPrefixBytes + plain.ByteLength());
  std::copy(plain.Data(), plain.Data() + plain.ByteLength(), out.Data() + wire::kEncPrefixBytes);
  if (!sealer.ok() || !sealer.seal(out.Data(), plain.ByteLength(), static_cast<uint32_t>(get("frameIndex"))))
    throw Napi::Error::New(env, "sealing failed");
  return out;
}

// gsPlanBlocks(totalDataShards, fecPercent, minRequiredFecPackets)
//   → { fec, blocks: [{ data, parity, percent }] } or null when the frame cannot be sent
Napi::Value PlanBlocks(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int total = int_arg(info, 0, 1, 1 << 20, "totalDataShards");
  const int pct = int_arg(info, 1, 0, 255, "fecPercent");
  const int min = int_arg(info, 2, 0, 255, "minRequiredFecPackets");
  wire::BlockPlan plan;
  if (!wire::plan_blocks(total, pct, min, &plan)) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("fec", plan.fec);
  Napi::Array blocks = Napi::Array::New(env, static_cast<size_t>(plan.blocks));
  for (int b = 0; b < plan.blocks; b++) {
    Napi::Object x = Napi::Object::New(env);
    x.Set("data", plan.data[b]);
    x.Set("parity", plan.parity[b].parity);
    x.Set("percent", plan.parity[b].percent);
    blocks.Set(static_cast<uint32_t>(b), x);
  }
  o.Set("blocks", blocks);
  return o;
}

}  // namespace

void register_gamestream_hooks(Napi::Env env, Napi::Object exports) {
  exports.Set("gsFecEncode", Napi::Function::New(env, FecEncode));
  exports.Set("gsPacketizeFrame", Napi::Function::New(env, PacketizeFrame));
  exports.Set("gsPlanBlocks", Napi::Function::New(env, PlanBlocks));
  exports.Set("gsVideoHeaders", Napi::Function::New(env, VideoHeaders));
  exports.Set("gsPacketizeTimed", Napi::Function::New(env, PacketizeTimed));
  exports.Set("gsSealVideoDatagram", Napi::Function::New(env, SealVideoDatagram));
}

}  // namespace pf::gs

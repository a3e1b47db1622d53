// libopus multistream encoder set up for GameStream (48 kHz, restricted low delay, CBR), fed
// silence or captured PCM, and the matching decoder used by tests to prove the packets are valid
// Opus (and, for captured sound, what it sounds like).
#include "opus_packets.h"

#include <opus_multistream.h>

#include <cmath>
#include <cstring>

namespace pf::audio {
namespace {
constexpr int kSampleRate = 48000;
}

bool opus_layout(int channels, OpusLayout* out) {
  OpusLayout l{};
  l.channels = channels;
  switch (channels) {
    case 2:
      l.streams = 1, l.coupled = 1, l.bitrate = 96000;
      break;
    case 6:
      l.streams = 4, l.coupled = 2, l.bitrate = 256000;
      break;
    case 8:
      l.streams = 5, l.coupled = 3, l.bitrate = 450000;
      break;
    default:
      return false;
  }
  for (int i = 0; i < channels; i++) l.mapping[i] = static_cast<uint8_t>(i);
  *out = l;
  return true;
}

OpusPacketEncoder::~OpusPacketEncoder() {
  if (enc_ != nullptr) opus_multistream_encoder_destroy(enc_);
}

OpusPacketEncoder* OpusPacketEncoder::open(int channels, int packet_ms, std::string* error) {
  OpusLayout layout;
  if (!opus_layout(channels, &layout)) {
    *error = "audio channels must be 2, 6 or 8 (stereo, 5.1, 7.1)";
    return nullptr;
  }
  if (packet_ms != 5 && packet_ms != 10 && packet_ms != 20) {
    *error = "audio packet duration must be 5, 10 or 20 ms";
    return nullptr;
  }
  int err = OPUS_OK;
  OpusMSEncoder* enc = opus_multistream_encoder_create(kSampleRate, channels, layout.streams, layout.coupled,
                                                       layout.mapping, OPUS_APPLICATION_RESTRICTED_LOWDELAY, &err);
  if (enc == nullptr || err != OPUS_OK) {
    *error = std::string("opus encoder: ") + opus_strerror(err);
    return nullptr;
  }
  OpusPacketEncoder* s = new OpusPacketEncoder();
  s->enc_ = enc;
  s->layout_ = layout;
  s->frame_samples_ = kSampleRate / 1000 * packet_ms;
  // CBR: each packet carries bitrate × duration bits; padding makes that exact.
  s->packet_bytes_ = static_cast<size_t>(layout.bitrate) * packet_ms / 8000;
  s->pcm_.assign(static_cast<size_t>(s->frame_samples_) * channels, 0);
  s->out_.assign(s->packet_bytes_, 0);
  opus_multistream_encoder_ctl(enc, OPUS_SET_BITRATE(layout.bitrate));
  opus_multistream_encoder_ctl(enc, OPUS_SET_VBR(0));
  return s;
}

const uint8_t* OpusPacketEncoder::padded(int encoded) {
  if (encoded < 0) return nullptr;
  if (static_cast<size_t>(encoded) < packet_bytes_ &&
      opus_multistream_packet_pad(out_.data(), encoded, static_cast<opus_int32>(packet_bytes_), layout_.streams) != OPUS_OK) {
    return nullptr;
  }
  return out_.data();
}

const uint8_t* OpusPacketEncoder::encode() {
  return padded(opus_multistream_encode(enc_, pcm_.data(), frame_samples_, out_.data(),
                                        static_cast<opus_int32>(packet_bytes_)));
}

const uint8_t* OpusPacketEncoder::encode(const float* pcm) {
  return padded(opus_multistream_encode_float(enc_, pcm, frame_samples_, out_.data(),
                                              static_cast<opus_int32>(packet_bytes_)));
}

bool decode_opus_sequence(const std::vector<std::vector<uint8_t>>& packets, int channels, std::vector<float>* pcm,
                          std::string* error) {
  OpusLayout layout;
  if (!opus_layout(channels, &layout)) {
    *error = "channels must be 2, 6 or 8";
    return false;
  }
  int err = OPUS_OK;
  OpusMSDecoder* dec =
      opus_multistream_decoder_create(kSampleRate, channels, layout.streams, layout.coupled, layout.mapping, &err);
  if (dec == nullptr || err != OPUS_OK) {
    *error = std::string("opus decoder: ") + opus_strerror(err);
    return false;
  }
  std::vector<float> frame(static_cast<size_t>(5760) * channels);
  for (const auto& p : packets) {
    const int n = opus_multistream_decode_float(dec, p.data(), static_cast<opus_int32>(p.size()), frame.data(), 5760, 0);
    if (n < 0) {
      opus_multistream_decoder_destroy(dec);
      *error = std::string("opus decode: ") + opus_strerror(n);
      return false;
    }
    pcm->insert(pcm->end(), frame.begin(), frame.begin() + static_cast<size_t>(n) * channels);
  }
  opus_multistream_decoder_destroy(dec);
  return true;
}

int decode_opus(const uint8_t* data, size_t len, int channels, double* peak, std::string* error) {
  OpusLayout layout;
  if (!opus_layout(channels, &layout)) {
    *error = "channels must be 2, 6 or 8";
    return -1;
  }
  int err = OPUS_OK;
  OpusMSDecoder* dec =
      opus_multistream_decoder_create(kSampleRate, channels, layout.streams, layout.coupled, layout.mapping, &err);
  if (dec == nullptr || err != OPUS_OK) {
    *error = std::string("opus decoder: ") + opus_strerror(err);
    return -1;
  }
  std::vector<float> pcm(static_cast<size_t>(5760) * channels);  // 120 ms, Opus's longest packet
  const int n = opus_multistream_decode_float(dec, data, static_cast<opus_int32>(len), pcm.data(), 5760, 0);
  opus_multistream_decoder_destroy(dec);
  if (n < 0) {
    *error = std::string("opus decode: ") + opus_strerror(n);
    return n;
  }
  double p = 0;
  for (size_t i = 0; i < static_cast<size_t>(n) * channels; i++) p = std::fmax(p, std::fabs(pcm[i]));
  *peak = p;
  return n;
}
}  // namespace pf::audio

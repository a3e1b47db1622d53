// The Opus side of GameStream audio. The encoder takes the desktop's sound (PCM captured from
// PulseAudio, pulse_capture.h) or, when there is none for a packet, digital silence: Moonlight
// clients expect an audio stream once one was negotiated (they report "no audio traffic" and some
// wait for it), so a packet goes out at every deadline either way.
//
// Layouts are the "normal quality" multistream layouts a GameStream host announces in DESCRIBE
// (`a=fmtp:97 surround-params=<channels><streams><coupled><mapping>`): stereo = 1 coupled
// stream, 5.1 = 4 streams of which 2 coupled, 7.1 = 5 streams of which 3 coupled, with the
// identity mapping (the announced mapping string is built from it in src/native/audio.ts).
// Encoding is CBR at that layout's bitrate, and every packet is padded to one constant size,
// because the audio FEC needs equal-length data shards in a block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

struct OpusMSEncoder;

namespace pf::audio {
struct OpusLayout {
  int channels;
  int streams;
  int coupled;
  uint8_t mapping[8];
  int bitrate;
};

// The layout for 2, 6 or 8 channels; false for any other count.
bool opus_layout(int channels, OpusLayout* out);

class OpusPacketEncoder {
 public:
  ~OpusPacketEncoder();
  OpusPacketEncoder(const OpusPacketEncoder&) = delete;
  OpusPacketEncoder& operator=(const OpusPacketEncoder&) = delete;
  // packet_ms: 5, 10 or 20 (Opus frame sizes a GameStream client asks for).
  static OpusPacketEncoder* open(int channels, int packet_ms, std::string* error);
  // Encodes one packet duration of silence; the result is exactly packet_bytes() long.
  // Returns nullptr if libopus fails.
  const uint8_t* encode();
  // Encodes one packet duration of interleaved float PCM (frame_samples() frames, the layout's
  // channel order); same size and failure rule as encode().
  const uint8_t* encode(const float* pcm);
  int frame_samples() const { return frame_samples_; }
  size_t packet_bytes() const { return packet_bytes_; }

 private:
  OpusPacketEncoder() = default;
  // Pads an encoded packet (length `encoded`, negative: libopus error) to packet_bytes().
  const uint8_t* padded(int encoded);
  OpusMSEncoder* enc_ = nullptr;
  OpusLayout layout_{};
  int frame_samples_ = 0;
  size_t packet_bytes_ = 0;
  std::vector<int16_t> pcm_;
  std::vector<uint8_t> out_;
};

// Test helper: decodes one packet with the layout for `channels`. Returns samples per channel
// (negative: libopus error code) and the peak absolute sample value in [0, 1].
int decode_opus(const uint8_t* data, size_t len, int channels, double* peak, std::string* error);

// Test helper: decodes consecutive packets with one decoder (as a client does) into interleaved
// float PCM appended to `pcm`. False with `error` on the first packet libopus refuses.
bool decode_opus_sequence(const std::vector<std::vector<uint8_t>>& packets, int channels, std::vector<float>* pcm,
                          std::string* error);
}  // namespace pf::audio

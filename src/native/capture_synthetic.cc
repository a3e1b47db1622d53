// The synthetic source: gradients that scroll at different speeds plus a bright square that
// travels across the frame. Every frame differs everywhere, so the encoder does real work
// (motion search, residuals) rather than coding skip blocks; drawing costs one pass over the
// buffer, which is what `capture` measures for this source.
#include <cstring>
#include <vector>

#include "capture.h"

namespace pf {

void draw_pattern(uint8_t* bgrx, int width, int height, int stride, uint64_t index) {
  const uint32_t t = static_cast<uint32_t>(index);
  const int box = height / 6 > 8 ? height / 6 : 8;
  const int bx = static_cast<int>((t * 7u) % static_cast<uint32_t>(width > box ? width - box : 1));
  const int by = static_cast<int>((t * 3u) % static_cast<uint32_t>(height > box ? height - box : 1));
  for (int y = 0; y < height; y++) {
    uint8_t* row = bgrx + static_cast<size_t>(y) * static_cast<size_t>(stride);
    const uint8_t g = static_cast<uint8_t>(y / 2 + t * 2);
    const bool in_box_row = y >= by && y < by + box;
    for (int x = 0; x < width; x++) {
      uint8_t* p = row + 4 * x;
      p[0] = static_cast<uint8_t>(x / 3 + t * 5);
      p[1] = g;
      p[2] = static_cast<uint8_t>((x + y) / 4 + t * 3);
      p[3] = 0xff;
    }
    if (in_box_row) std::memset(row + 4 * bx, 0xff, static_cast<size_t>(box) * 4);
  }
}

namespace {

class Synthetic final : public Capture {
 public:
  Synthetic(int width, int height, int fps, bool still)
      : width_(width), height_(height), every_(still ? (fps > 0 ? fps : 1) : 1),
        pixels_(static_cast<size_t>(width) * static_cast<size_t>(height) * 4) {}

  bool grab(FrameView* frame) override {
    frame->data = pixels_.data();
    frame->stride = width_ * 4;
    const bool fresh = index_ % every_ == 0;
    if (fresh) draw_pattern(pixels_.data(), width_, height_, width_ * 4, index_ / every_);
    index_++;
    return fresh;
  }

 private:
  int width_, height_;
  uint64_t every_;
  uint64_t index_ = 0;
  std::vector<uint8_t> pixels_;
};

}  // namespace

std::unique_ptr<Capture> make_synthetic(int width, int height, int fps, bool still) {
  return std::make_unique<Synthetic>(width, height, fps, still);
}

}  // namespace pf

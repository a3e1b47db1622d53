// The synthetic source: gradients that scroll at different speeds plus a bright square that
// travels across the frame. Every frame differs everywhere, so the encoder does real work
// (motion search, residuals) rather than coding skip blocks; drawing costs one pass over the
// buffer, which is what `capture` measures for this source.
//
// Pixel (x, y) of frame t is B = x/3 + 5t, G = y/2 + 2t, R = (x+y)/4 + 3t (each mod 256), X = 255.
// Drawn per pixel that took ≈ 2.5 ms of a core per 1080p frame (a division and four byte stores
// per pixel), a sixth of the frame budget spent on a test pattern. The parts that depend on x
// and on x+y are the same in every frame, so they are tabulated once when the source opens;
// a row is then two table reads OR-ed together plus one per-byte add of the frame's offsets,
// sixteen bytes at a time (GCC/Clang vector types: SSE2 on x86-64, NEON on ARM). Same pixels
// as before, bit for bit.
#include <cstring>
#include <vector>

#include "capture.h"

namespace pf {

namespace {

typedef uint8_t Bytes16 __attribute__((vector_size(16)));

class Painter {
 public:
  Painter(int width, int height)
      : width_(width), height_(height),
        by_x_(static_cast<size_t>(width) * 4 + 16),
        by_xy_((static_cast<size_t>(width) + static_cast<size_t>(height)) * 4 + 16) {
    for (int x = 0; x < width; x++) {
      by_x_[4 * x] = static_cast<uint8_t>(x / 3);
      by_x_[4 * x + 3] = 0xff;
    }
    for (int k = 0; k < width + height; k++) by_xy_[4 * k + 2] = static_cast<uint8_t>(k / 4);
  }

  void draw(uint8_t* bgrx, int stride, uint64_t index) const {
    const uint32_t t = static_cast<uint32_t>(index);
    const int width = width_, height = height_;
    const int box = height / 6 > 8 ? height / 6 : 8;
    const int bx = static_cast<int>((t * 7u) % static_cast<uint32_t>(width > box ? width - box : 1));
    const int by = static_cast<int>((t * 3u) % static_cast<uint32_t>(height > box ? height - box : 1));
    const uint8_t b_off = static_cast<uint8_t>(t * 5), r_off = static_cast<uint8_t>(t * 3);
    for (int y = 0; y < height; y++) {
      uint8_t* row = bgrx + static_cast<size_t>(y) * static_cast<size_t>(stride);
      const uint8_t g = static_cast<uint8_t>(y / 2 + t * 2);
      const Bytes16 add = {b_off, g, r_off, 0, b_off, g, r_off, 0, b_off, g, r_off, 0, b_off, g, r_off, 0};
      const uint8_t* xs = by_x_.data();
      const uint8_t* xys = by_xy_.data() + 4 * static_cast<size_t>(y);
      int x = 0;
      for (; x + 4 <= width; x += 4) {
        Bytes16 a, b;
        std::memcpy(&a, xs + 4 * x, 16);
        std::memcpy(&b, xys + 4 * x, 16);
        const Bytes16 px = (a | b) + add;
        std::memcpy(row + 4 * x, &px, 16);
      }
      for (; x < width; x++) {
        uint8_t* p = row + 4 * x;
        p[0] = static_cast<uint8_t>(xs[4 * x] + b_off);
        p[1] = g;
        p[2] = static_cast<uint8_t>(xys[4 * x + 2] + r_off);
        p[3] = 0xff;
      }
      if (y >= by && y < by + box) std::memset(row + 4 * bx, 0xff, static_cast<size_t>(box) * 4);
    }
  }

 private:
  int width_, height_;
  std::vector<uint8_t> by_x_;   // per x: B = x/3, X = 255 (G, R zero); 16 bytes slack for the vector reads
  std::vector<uint8_t> by_xy_;  // per x+y: R = (x+y)/4 (B, G, X zero)
};

class Synthetic final : public Capture {
 public:
  Synthetic(int width, int height, int fps, bool still)
      : width_(width), every_(still ? (fps > 0 ? fps : 1) : 1), painter_(width, height),
        pixels_(static_cast<size_t>(width) * static_cast<size_t>(height) * 4) {}

  bool grab(FrameView* frame) override {
    frame->data = pixels_.data();
    frame->stride = width_ * 4;
    const bool fresh = index_ % every_ == 0;
    if (fresh) painter_.draw(pixels_.data(), width_ * 4, index_ / every_);
    index_++;
    return fresh;
  }

 private:
  int width_;
  uint64_t every_;
  uint64_t index_ = 0;
  Painter painter_;
  std::vector<uint8_t> pixels_;
};

}  // namespace

void draw_pattern(uint8_t* bgrx, int width, int height, int stride, uint64_t index) {
  Painter(width, height).draw(bgrx, stride, index);
}

std::unique_ptr<Capture> make_synthetic(int width, int height, int fps, bool still) {
  return std::make_unique<Synthetic>(width, height, fps, still);
}

}  // namespace pf

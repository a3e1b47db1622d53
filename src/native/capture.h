// Capture sources: where a frame's pixels come from. Each yields 32-bit BGRX pixels (the layout
// of an X11 ZPixmap at depth 24 on little-endian machines), so the converter downstream is the
// same for all of them.
//
// Invariant: `grab` runs on the frame thread and neither allocates nor locks; every buffer is
// made when the source opens. It returns false when the source has nothing new since the last
// grab, in which case `frame` still points at the previous pixels (a repeat frame); the loop
// then decides whether the encoder sees the repeat at all (frame_loop.cc, still_policy.h).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

namespace pf {

struct FrameView {
  const uint8_t* data = nullptr;
  int stride = 0;  // bytes per row
};

class Capture {
 public:
  virtual ~Capture() = default;
  virtual bool grab(FrameView* frame) = 0;
  // Non-null once the source can deliver no more frames (e.g. the X server went away); the
  // loop checks it after each grab and ends the session with this reason.
  virtual const char* failure() const { return nullptr; }
};

// A moving test pattern drawn on the frame thread. `still` = the static variant: it redraws only
// once a second (every `fps` frames), so the frames between are repeats.
std::unique_ptr<Capture> make_synthetic(int width, int height, int fps, bool still);

// Draws pattern frame `index` into a BGRX buffer (also used by the benchmark's raw frames).
void draw_pattern(uint8_t* bgrx, int width, int height, int stride, uint64_t index);

// XShm capture of the top-left width×height of the display's root window, grabbed only when
// DAMAGE reports a change (every tick on a server without DAMAGE). Null with `error` set when
// the display cannot be opened, has no MIT-SHM, or is smaller than asked.
std::unique_ptr<Capture> open_x11(const std::string& display, int width, int height, std::string* error);

}  // namespace pf

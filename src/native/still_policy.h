// Which unchanged frames the encoder still sees. A frame whose picture did not change (the
// capture said so: X11 DAMAGE reported nothing, or the static source did not redraw) is neither
// converted nor encoded unless one of three reasons holds:
//
// 1. A key frame is wanted (a client's IDR request, a newly learned GameStream client). A still
//    screen must appear at once on a new client and after loss, so this never waits.
// 2. Refinement right after a change. Under the one-frame rate-control buffer the first frame of
//    a change is coded coarsely when the change is large (a window opening); left alone that
//    coarse picture would stay on screen for as long as the screen stays still. So after each
//    new picture the encoder sees the same picture again until one repeat codes to almost
//    nothing (the encoder has nothing left to add: at most `refine_cutoff_bytes`), and for at
//    most half a second of frames. A small change (text typed, a cursor blinking) converges at
//    the first repeat; libx264 brought a full-screen moving pattern, frozen, to its steady size
//    in about 30 repeats at 10 Mb/s — hence half a second at 60 fps.
// 3. A keepalive: the path asks to see a frame every `keepalive_ns` while still (0 = never).
//    Both clients notice a lost frame only when a later one arrives; without one, the last change
//    lost on the network would leave a broken picture until the next change. Why each path picks
//    its interval is in sink.cc (Sink::still_keepalive_ns). That interval holds for the first
//    second after a frame the client must not miss (a new picture or a key frame); after that,
//    one keepalive a second. Why slower then: a keepalive only reveals the loss of the frames
//    before it, and within that second several have gone out, so what mattered is known to have
//    arrived or been asked for again; a lost keepalive itself changes nothing on screen (its
//    picture is the one shown), and the next change reveals it. The slow one stays (rather than
//    none) because clients are built for a stream that never stops for long — Sunshine, the
//    host most Moonlight clients stream from, encodes a still screen at a minimum rate.
//
// Everything here is plain arithmetic on the frame thread: no clock read, no allocation.
#pragma once
#include <cstdint>

namespace pf {

class StillPolicy {
 public:
  StillPolicy(uint64_t keepalive_ns, uint64_t refine_cutoff_bytes, int fps)
      : keepalive_ns_(keepalive_ns), refine_cutoff_(refine_cutoff_bytes), refine_frames_(fps / 2 > 4 ? fps / 2 : 4) {}

  static constexpr uint64_t kFastSpanNs = 1'000'000'000ull;
  static constexpr uint64_t kSlowKeepaliveNs = 1'000'000'000ull;

  // Before encoding: does this unchanged frame go to the encoder? (Changed frames always do.)
  bool encode_repeat(bool idr, uint64_t deadline_ns) const {
    if (idr || refine_left_ > 0 || !encoded_any_) return true;
    if (keepalive_ns_ == 0) return false;
    const bool fast = deadline_ns - last_vital_ns_ < kFastSpanNs;
    const uint64_t interval = fast || keepalive_ns_ > kSlowKeepaliveNs ? keepalive_ns_ : kSlowKeepaliveNs;
    return deadline_ns - last_encoded_ns_ >= interval;
  }

  // After a frame went through the encoder: `fresh` = its picture was new, `idr` = it was a
  // requested key frame; `bytes` its size.
  void encoded(bool fresh, bool idr, uint64_t bytes, uint64_t deadline_ns) {
    encoded_any_ = true;
    last_encoded_ns_ = deadline_ns;
    if (fresh || idr) last_vital_ns_ = deadline_ns;
    if (fresh) {
      refine_left_ = refine_frames_;
    } else if (refine_left_ > 0) {
      refine_left_ = bytes <= refine_cutoff_ ? 0 : refine_left_ - 1;
    }
  }

 private:
  uint64_t keepalive_ns_;
  uint64_t refine_cutoff_;
  int refine_frames_;
  uint64_t last_encoded_ns_ = 0;
  uint64_t last_vital_ns_ = 0;  // the last new picture or key frame
  int refine_left_ = 0;
  bool encoded_any_ = false;
};

}  // namespace pf

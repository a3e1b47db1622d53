// Process-wide state the frame loops share with JavaScript: the Recorder's armed flag and the
// number of live frame-loop threads.
//
// Invariant: the frame loop reads `armed` with exactly one relaxed load per frame. Relaxed is
// enough: the flag orders nothing else, and a frame that sees the change one frame late only
// moves the first measured frame by one interval.
#pragma once
#include <atomic>

namespace pf {

extern std::atomic<bool> g_armed;
// Incremented when a frame-loop thread starts, decremented as its last act (tests check 0).
extern std::atomic<int> g_active_threads;

}  // namespace pf

// Real-time scheduling for the frame path (setting `PUNKTFUNK_FRAME_PRIORITY=realtime`).
//
// Why: on a small machine the frame's critical path is the frame thread plus libx264's slice
// threads, which hand a frame between each other several times per frame. Under the normal
// scheduler every hand-off waits for a core the scheduler is sharing fairly with whatever else
// runs (Node, the console's browser, a build); measured on a 2-vCPU VM, 1080p60 libx264 encodes
// at p50 9.4 ms / p99 15–17 ms that way, and at p50 6.4 ms / p99 8–12 ms with the same threads
// under SCHED_RR (BENCHMARKS.md, issue 12). Audio servers (PipeWire through RealtimeKit) and
// low-latency capture tools do the same for the same reason.
//
// What gets it: the frame thread, and the encoder's worker threads. libx264 creates those inside
// avcodec_open2 with default attributes, which inherit the creating thread's policy; so the
// session opens its encoder inside a `RealtimeScope`, which lifts the opening (JavaScript) thread
// for exactly that call and puts it back. Nothing else does: Node's main thread, libuv's pool,
// the senders' pacer threads and the console stay normal, so an API request is never starved
// by a frame.
//
// Why a low priority (kPriority): above every normal thread, below the kernel's own real-time
// threads and an audio server's.
//
// Safety: a frame thread that cannot keep up would run without sleeping and, at real-time
// priority, leave Node only the kernel's 5% throttling share. The frame loop therefore drops
// itself and its encoder threads back to the normal scheduler after `kLateWindows` windows in a
// row with skipped deadlines (`demote`), and says so in its windows (`realtime` false).
//
// Without permission (no CAP_SYS_NICE and RLIMIT_RTPRIO below kPriority) the session runs
// normally and its info says why, once.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

namespace pf {

constexpr int kRealtimePriority = 10;
// Windows in a row with skipped deadlines before a real-time frame loop gives the priority up.
constexpr int kLateWindows = 2;

// Lifts the calling thread to SCHED_RR for the scope; threads it creates meanwhile inherit it.
// `finish()` puts the caller back and returns the threads that appeared with SCHED_RR.
class RealtimeScope {
 public:
  // `wanted` false: does nothing (granted() false, why() "").
  explicit RealtimeScope(bool wanted);
  ~RealtimeScope();
  RealtimeScope(const RealtimeScope&) = delete;
  RealtimeScope& operator=(const RealtimeScope&) = delete;

  bool granted() const { return granted_; }
  // Why real-time was refused ("" when granted or not wanted).
  const std::string& why() const { return why_; }
  // Restores the caller's scheduling; the kernel ids of threads created in the scope that run at
  // real-time priority (the encoder's workers). Idempotent.
  std::vector<pid_t> finish();

 private:
  bool granted_ = false;
  bool finished_ = false;
  int old_policy_ = 0;
  int old_priority_ = 0;
  std::string why_;
  std::vector<pid_t> before_;
};

// The calling thread to SCHED_RR at kRealtimePriority; false with `why` when refused.
bool raise_current_thread(std::string* why);
// Threads (kernel ids; 0 = the calling thread) back to the normal scheduler.
void demote_threads(const std::vector<pid_t>& tids);
// The scheduling policy of a thread of this process ("realtime", "normal", or "" if gone).
std::string thread_policy(pid_t tid);

}  // namespace pf

// Real-time scheduling for the frame path (see thread_priority.h for why and for whom).
#include "thread_priority.h"

#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace pf {

namespace {

std::vector<pid_t> task_ids() {
  std::vector<pid_t> ids;
  DIR* d = opendir("/proc/self/task");
  if (d == nullptr) return ids;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    ids.push_back(static_cast<pid_t>(std::atoi(e->d_name)));
  }
  closedir(d);
  std::sort(ids.begin(), ids.end());
  return ids;
}

// The reason an operator can act on: which permission is missing.
std::string refusal(int err) {
  if (err == EPERM) {
    rlimit r{};
    getrlimit(RLIMIT_RTPRIO, &r);
    return "real-time priority not permitted (needs CAP_SYS_NICE, or RLIMIT_RTPRIO of at least " +
           std::to_string(kRealtimePriority) + "; it is " + std::to_string(r.rlim_cur) + "): frames run at normal priority";
  }
  return std::string("real-time priority refused (") + std::strerror(err) + "): frames run at normal priority";
}

}  // namespace

RealtimeScope::RealtimeScope(bool wanted) {
  if (!wanted) return;
  sched_param old{};
  pthread_getschedparam(pthread_self(), &old_policy_, &old);
  old_priority_ = old.sched_priority;
  before_ = task_ids();
  sched_param rt{};
  rt.sched_priority = kRealtimePriority;
  const int rc = pthread_setschedparam(pthread_self(), SCHED_RR, &rt);
  if (rc != 0) {
    why_ = refusal(rc);
    finished_ = true;
    return;
  }
  granted_ = true;
}

RealtimeScope::~RealtimeScope() { finish(); }

std::vector<pid_t> RealtimeScope::finish() {
  std::vector<pid_t> created;
  if (finished_) return created;
  finished_ = true;
  // Restore first: from here on, threads the caller creates are normal again.
  sched_param old{};
  old.sched_priority = old_priority_;
  pthread_setschedparam(pthread_self(), old_policy_, &old);
  // Threads another thread started meanwhile did not inherit the lift; keep only those that did.
  for (pid_t tid : task_ids())
    if (!std::binary_search(before_.begin(), before_.end(), tid) && sched_getscheduler(tid) == SCHED_RR) created.push_back(tid);
  return created;
}

bool raise_current_thread(std::string* why) {
  sched_param rt{};
  rt.sched_priority = kRealtimePriority;
  const int rc = pthread_setschedparam(pthread_self(), SCHED_RR, &rt);
  if (rc == 0) return true;
  *why = refusal(rc);
  return false;
}

void demote_threads(const std::vector<pid_t>& tids) {
  sched_param normal{};
  normal.sched_priority = 0;
  for (pid_t tid : tids) sched_setscheduler(tid, SCHED_OTHER, &normal);
}

std::string thread_policy(pid_t tid) {
  const int p = sched_getscheduler(tid);
  if (p < 0) return "";
  return p == SCHED_RR || p == SCHED_FIFO ? "realtime" : "normal";
}

}  // namespace pf

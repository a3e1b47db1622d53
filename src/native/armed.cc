// Definitions of the shared atomics (see armed.h for why they are relaxed and process-wide).
#include "armed.h"

namespace pf {

std::atomic<bool> g_armed{false};
std::atomic<int> g_active_threads{0};

}  // namespace pf

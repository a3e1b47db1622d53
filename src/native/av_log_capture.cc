// See av_log_capture.h. The buffer is thread_local: encoders open on the JavaScript thread
// while frame threads may log concurrently, and neither must read the other's line.
#include "av_log_capture.h"

extern "C" {
#include <libavutil/log.h>
}

#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace pf {

namespace {

thread_local char t_last_error[512];

void callback(void* avcl, int level, const char* fmt, va_list args) {
  if (level > AV_LOG_WARNING) return;
  char line[512];
  int print_prefix = 1;
  va_list copy;
  va_copy(copy, args);
  av_log_format_line(avcl, level, fmt, copy, line, sizeof line, &print_prefix);
  va_end(copy);
  if (level <= AV_LOG_ERROR) {
    std::strncpy(t_last_error, line, sizeof t_last_error - 1);
    t_last_error[sizeof t_last_error - 1] = '\0';
    const size_t n = std::strlen(t_last_error);
    if (n > 0 && t_last_error[n - 1] == '\n') t_last_error[n - 1] = '\0';
  }
  std::fprintf(stderr, "[libav] %s", line);
}

}  // namespace

void install_av_log_capture() { av_log_set_callback(callback); }
void clear_last_av_error() { t_last_error[0] = '\0'; }
std::string last_av_error() { return std::string(t_last_error); }

}  // namespace pf

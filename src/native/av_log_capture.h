// FFmpeg reports why an encoder failed to open through av_log, not through the return code
// ("Cannot load libcuda.so.1" comes only as a log line). This keeps the last error line of the
// calling thread so the open error can name the real cause, and forwards warnings and errors to
// stderr with a prefix (libx264's per-session info chatter is dropped).
#pragma once
#include <string>

namespace pf {

void install_av_log_capture();
void clear_last_av_error();
std::string last_av_error();

}  // namespace pf

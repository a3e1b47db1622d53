// The host's GameStream video port: one UDP socket bound when the host starts and kept for its
// lifetime, because RTSP SETUP must announce the port before any session exists, and Moonlight
// pings it before the first frame. Sessions borrow its descriptor (`videoFd`) to read pings and
// send video; they never close it.
//
// Why a plain socket with no thread: between sessions nobody needs to read it. Pings that arrive
// then wait in the receive buffer (or are dropped by the kernel once it is full) and the next
// session's sender discards those that are not for it.
#pragma once
#include <string>

namespace pf::gs {

struct BoundPort {
  int fd = -1;
  int port = 0;
};

// Binds a non-blocking UDP socket to `bind_host` ("0.0.0.0", "::", "127.0.0.1"…) and `port`
// (0 = any free port). On failure returns fd -1 and a sentence in `error`.
BoundPort bind_video_port(const std::string& bind_host, int port, std::string* error);

}  // namespace pf::gs

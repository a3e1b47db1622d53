// Binding the GameStream video port (see video_port.h). A large send buffer lets the pacer's
// bursts of a key frame sit in the kernel instead of failing with EAGAIN; SO_SNDBUFFORCE works
// as root, SO_SNDBUF (capped by net.core.wmem_max) otherwise.
#include "video_port.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pf::gs {

BoundPort bind_video_port(const std::string& bind_host, int port, std::string* error) {
  BoundPort out;
  if (port < 0 || port > 65535) {
    *error = "video port " + std::to_string(port) + " is not a port (0..65535)";
    return out;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const int rc = getaddrinfo(bind_host.empty() ? nullptr : bind_host.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) {
    *error = "cannot bind the video port to '" + bind_host + "': " + gai_strerror(rc);
    return out;
  }
  const int fd = socket(res->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("cannot open the video socket: ") + std::strerror(errno);
    freeaddrinfo(res);
    return out;
  }
  if (res->ai_family == AF_INET6) {
    int off = 0;  // "::" also takes IPv4 clients (as ::ffff:a.b.c.d)
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  }
  int sndbuf = 4 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) != 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  if (bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
    *error = "cannot bind the video port " + bind_host + ":" + std::to_string(port) + ": " + std::strerror(errno);
    close(fd);
    freeaddrinfo(res);
    return out;
  }
  freeaddrinfo(res);
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
  out.port = local.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&local)->sin6_port)
                                         : ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port);
  out.fd = fd;
  return out;
}

}  // namespace pf::gs

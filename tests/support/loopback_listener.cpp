#include "tests/support/loopback_listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace hie::testing {

LoopbackListener listenOnLoopback(int backlog, const std::string& who) {
  LoopbackListener out;
  out.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (out.fd < 0 || ::bind(out.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(out.fd, backlog) != 0 || ::getsockname(out.fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (out.fd >= 0) ::close(out.fd);
    throw std::runtime_error(who + " cannot listen on 127.0.0.1");
  }
  out.port = ntohs(addr.sin_port);
  return out;
}

}  // namespace hie::testing

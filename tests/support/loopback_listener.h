// A listening TCP socket on 127.0.0.1 at a free port, for the test servers
// (OCSP responder, slow and scripted TLS peers). Throws std::runtime_error
// naming `who` when it cannot listen.
#pragma once

#include <string>

namespace hie::testing {

struct LoopbackListener {
  int fd = -1;
  int port = 0;
};

LoopbackListener listenOnLoopback(int backlog, const std::string& who);

}  // namespace hie::testing

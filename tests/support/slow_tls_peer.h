// A peer node that answers too slowly, for tests of the outbound client: a
// real TLS server on 127.0.0.1 (certificate from the test PKI) that completes
// the handshake, reads one request head, then sends `answer` one byte every
// `gap`, until it is all sent or the client goes away. One thread per
// connection, at most kMaxConnections at once (more are closed at once); the
// destructor stops and joins every thread.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/ossl.h"
#include "tests/support/test_pki.h"

namespace hie::testing {

class SlowTlsPeer {
 public:
  static constexpr int kMaxConnections = 128;

  // server: the leaf the peer presents (sent with intermediate); answer: the raw HTTP response.
  SlowTlsPeer(const Credential& server, const Credential& intermediate, std::string answer,
              std::chrono::milliseconds gap);
  ~SlowTlsPeer();
  SlowTlsPeer(const SlowTlsPeer&) = delete;
  SlowTlsPeer& operator=(const SlowTlsPeer&) = delete;

  int port() const { return port_; }
  int handshakes() const { return handshakes_; }  // connections whose TLS handshake completed
  int open() const { return open_; }              // connections the client has not closed yet

 private:
  void acceptLoop();
  void serve(int fd);

  std::string answer_;
  std::chrono::milliseconds gap_;
  ossl::UniquePtr<SSL_CTX> ctx_;
  int listenFd_ = -1;
  int port_ = 0;
  std::atomic<int> handshakes_{0};
  std::atomic<int> open_{0};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::set<int> fds_;  // connections being served, shut down by the destructor
  std::vector<std::thread> threads_;
  std::thread acceptor_;  // last: starts once everything above exists
};

}  // namespace hie::testing

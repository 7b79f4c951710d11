#include "tests/support/slow_tls_peer.h"
#include "tests/support/loopback_listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <csignal>
#include <stdexcept>

namespace hie::testing {
namespace {

// A client that goes away mid-answer must not kill the test process with SIGPIPE.
[[maybe_unused]] const bool kIgnoreSigpipe = [] {
  std::signal(SIGPIPE, SIG_IGN);
  return true;
}();

}  // namespace

SlowTlsPeer::SlowTlsPeer(const Credential& server, const Credential& intermediate, std::string answer,
                         std::chrono::milliseconds gap)
    : answer_(std::move(answer)), gap_(gap), ctx_(SSL_CTX_new(TLS_server_method())) {
  if (!ctx_ || SSL_CTX_use_certificate(ctx_.get(), server.cert()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx_.get(), server.key()) != 1 ||
      SSL_CTX_add1_chain_cert(ctx_.get(), intermediate.cert()) != 1) {
    throw std::runtime_error("slow peer: TLS context: " + ossl::drainErrors());
  }
  SSL_CTX_set_min_proto_version(ctx_.get(), TLS1_2_VERSION);
  const LoopbackListener listener = listenOnLoopback(128, "slow peer:");
  listenFd_ = listener.fd;
  port_ = listener.port;
  acceptor_ = std::thread([this] { acceptLoop(); });
}

SlowTlsPeer::~SlowTlsPeer() {
  stop_ = true;
  acceptor_.join();  // polls stop_ at least every 50 ms
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);  // ends handshakes and reads under way
  }
  for (auto& t : threads_) t.join();
  ::close(listenFd_);
}

void SlowTlsPeer::acceptLoop() {
  while (!stop_) {
    pollfd p{listenFd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> lock(mutex_);
    if (static_cast<int>(threads_.size()) >= kMaxConnections || stop_) {
      ::close(fd);
      continue;
    }
    fds_.insert(fd);
    ++open_;
    threads_.emplace_back([this, fd] { serve(fd); });
  }
}

void SlowTlsPeer::serve(int fd) {
  // The handshake and the request head are bounded; the answer is paced by gap_.
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  ossl::UniquePtr<SSL> ssl(SSL_new(ctx_.get()));
  SSL_set_fd(ssl.get(), fd);
  if (ssl && SSL_accept(ssl.get()) == 1) {
    ++handshakes_;
    std::string head;
    char buf[4096];
    while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536 && !stop_) {
      const int n = SSL_read(ssl.get(), buf, sizeof buf);
      if (n <= 0) break;
      head.append(buf, static_cast<std::size_t>(n));
    }
    if (head.find("\r\n\r\n") != std::string::npos) {
      for (std::size_t sent = 0; sent < answer_.size() && !stop_; ++sent) {
        // Waits out the gap, but notices at once when the client closes (FIN or reset).
        pollfd p{fd, POLLRDHUP, 0};
        if (::poll(&p, 1, static_cast<int>(gap_.count())) > 0) break;
        if (SSL_write(ssl.get(), answer_.data() + sent, 1) != 1) break;
      }
    }
  }
  ERR_clear_error();
  ssl.reset();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    fds_.erase(fd);  // before close: the destructor must never shut down a reused number
  }
  ::close(fd);
  --open_;
}

}  // namespace hie::testing

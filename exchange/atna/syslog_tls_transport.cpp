#include "exchange/atna/syslog_tls_transport.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace hie::exchange {
namespace {

Error transportError(const std::string& message) { return Error{ErrorCode::kUnavailable, message, "audit repository unavailable"}; }

// A connected socket, closed on destruction.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  Socket(Socket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Socket& operator=(Socket&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

bool isIpAddress(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

Error cancelledError() { return transportError("cancelled: the node is stopping"); }

bool signalled(int wakeFd) {
  pollfd p{wakeFd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

// wakeFd (readable once cancel() ran) cuts the wait for a connection at once.
Result<Socket> connectTo(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout, int wakeFd) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (rc != 0) return tl::make_unexpected(transportError("cannot resolve " + host + ": " + gai_strerror(rc)));
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> list(found, freeaddrinfo);
  std::string last = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if (signalled(wakeFd)) return tl::make_unexpected(cancelledError());
    Socket s(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
    if (s.fd() < 0) continue;
    const int flags = fcntl(s.fd(), F_GETFL, 0);
    fcntl(s.fd(), F_SETFL, flags | O_NONBLOCK);
    int r = ::connect(s.fd(), a->ai_addr, a->ai_addrlen);
    if (r != 0 && errno == EINPROGRESS) {
      pollfd p[2] = {{s.fd(), POLLOUT, 0}, {wakeFd, POLLIN, 0}};
      r = ::poll(p, 2, static_cast<int>(timeout.count()));
      if (r > 0 && p[1].revents != 0) return tl::make_unexpected(cancelledError());
      if (r == 0) {
        last = "connect timed out";
        continue;
      }
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &err, &len);
      r = err == 0 ? 0 : -1;
      errno = err;
    }
    if (r != 0) {
      last = std::strerror(errno);
      continue;
    }
    fcntl(s.fd(), F_SETFL, flags);
    timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    setsockopt(s.fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(s.fd(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return s;
  }
  return tl::make_unexpected(transportError("cannot connect to " + host + ":" + std::to_string(port) + ": " + last));
}

std::string sslFailure(const char* what, SSL* ssl, int rc) {
  const int code = SSL_get_error(ssl, rc);
  std::string detail = ossl::drainErrors();
  if (code == SSL_ERROR_SYSCALL && detail.empty()) detail = errno == 0 ? "connection closed" : std::strerror(errno);
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) detail += std::string(detail.empty() ? "" : "; ") + "certificate: " + X509_verify_cert_error_string(verify);
  return std::string(what) + " failed (" + std::to_string(code) + "): " + detail;
}

}  // namespace

std::chrono::milliseconds deliveryBudget(std::chrono::milliseconds timeout, std::size_t bytes) {
  return timeout * 3 + timeout * static_cast<std::int64_t>(bytes / (1024 * 1024));
}

Result<std::unique_ptr<SyslogTlsTransport>> SyslogTlsTransport::create(SyslogTlsOptions options, MaterialSource material) {
  ossl::UniquePtr<X509_STORE> store(X509_STORE_new());
  if (!store || X509_STORE_load_file(store.get(), options.trustBundle.c_str()) != 1) {
    const std::string detail = ossl::drainErrors();
    return fail(ErrorCode::kInvalidInput, "atna.trustBundle " + options.trustBundle + " holds no readable PEM certificate" +
                                              (detail.empty() ? "" : ": " + detail));
  }
  if (options.serverName.empty()) options.serverName = options.host;
  return std::unique_ptr<SyslogTlsTransport>(new SyslogTlsTransport(std::move(options), std::move(material), std::move(store)));
}

SyslogTlsTransport::SyslogTlsTransport(SyslogTlsOptions options, MaterialSource material, ossl::UniquePtr<X509_STORE> anchors)
    : options_(std::move(options)), material_(std::move(material)), anchors_(std::move(anchors)),
      wakeFd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

SyslogTlsTransport::~SyslogTlsTransport() {
  if (wakeFd_ >= 0) ::close(wakeFd_);
}

Result<void> SyslogTlsTransport::deliver(const std::vector<std::string>& frames) {
  ERR_clear_error();
  // One deadline for the whole delivery: atna.timeout bounds each connect, read or write, but a
  // repository that reads slowly, or keeps talking before it closes, would restart it forever, while
  // the feed's database transaction stays open. 3 timeouts, plus one per MiB of the batch.
  std::size_t bytes = 0;
  for (const auto& frame : frames) bytes += frame.size();
  const std::chrono::milliseconds budget = deliveryBudget(options_.timeout, bytes);
  const auto deadline = std::chrono::steady_clock::now() + budget;
  const auto material = material_();
  ossl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return tl::make_unexpected(transportError("SSL_CTX_new: " + ossl::drainErrors()));
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  if (SSL_CTX_use_certificate(ctx.get(), material->leaf.get()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx.get(), material->key.get()) != 1) {
    return tl::make_unexpected(transportError("the node's certificate: " + ossl::drainErrors()));
  }
  for (int i = 0; material->intermediates && i < sk_X509_num(material->intermediates.get()); ++i) {
    SSL_CTX_add1_chain_cert(ctx.get(), sk_X509_value(material->intermediates.get(), i));
  }
  SSL_CTX_set1_cert_store(ctx.get(), anchors_.get());
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  X509_VERIFY_PARAM_set_purpose(SSL_CTX_get0_param(ctx.get()), X509_PURPOSE_SSL_SERVER);

  ossl::UniquePtr<SSL> ssl(SSL_new(ctx.get()));
  if (!ssl) return tl::make_unexpected(transportError("SSL_new: " + ossl::drainErrors()));
  if (isIpAddress(options_.serverName)) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), options_.serverName.c_str()) != 1) {
      return tl::make_unexpected(transportError("atna.serverName " + options_.serverName + " is not an IP address"));
    }
  } else {
    // The name must be a SAN dNSName: never the subject's CN (OpenSSL's fallback when a certificate has none).
    X509_VERIFY_PARAM_set_hostflags(SSL_get0_param(ssl.get()),
                                    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
    if (SSL_set1_host(ssl.get(), options_.serverName.c_str()) != 1 ||
        SSL_set_tlsext_host_name(ssl.get(), options_.serverName.c_str()) != 1) {
      return tl::make_unexpected(transportError("atna.serverName " + options_.serverName + " cannot be checked"));
    }
  }

  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (cancelled_) return tl::make_unexpected(cancelledError());
  }
  auto socket = connectTo(options_.host, options_.port, options_.timeout, wakeFd_);
  if (!socket) return tl::make_unexpected(socket.error());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (cancelled_) return tl::make_unexpected(cancelledError());
    activeFd_ = socket->fd();
  }
  // Forgets the socket before it is closed, so that cancel() never touches a reused descriptor.
  struct Forget {
    SyslogTlsTransport* self;
    ~Forget() {
      std::lock_guard<std::mutex> lock(self->mutex_);
      self->activeFd_ = -1;
    }
  } forget{this};
  SSL_set_fd(ssl.get(), socket->fd());
  errno = 0;
  if (const int rc = SSL_connect(ssl.get()); rc != 1) {
    return tl::make_unexpected(transportError(sslFailure("TLS handshake with the audit repository", ssl.get(), rc)));
  }
  if (std::chrono::steady_clock::now() > deadline) return tl::make_unexpected(transportError("the audit repository took too long to connect"));
  // The frames, gathered into writes of up to 64 KiB (never the whole batch copied at once).
  const auto pastDeadline = [&] { return std::chrono::steady_clock::now() > deadline; };
  const auto tooSlow = [&] {
    return tl::make_unexpected(transportError("the audit repository took longer than " + std::to_string(budget.count()) +
                                              " ms for the batch (" + std::to_string(bytes) + " bytes)"));
  };
  std::string out;
  const auto flush = [&](const char* data, std::size_t size) -> Result<void> {
    std::size_t written = 0;
    while (written < size) {
      if (pastDeadline()) return tooSlow();
      errno = 0;
      const int n = SSL_write(ssl.get(), data + written, static_cast<int>(std::min<std::size_t>(size - written, 1 << 20)));
      if (n <= 0) return tl::make_unexpected(transportError(sslFailure("writing to the audit repository", ssl.get(), n)));
      written += static_cast<std::size_t>(n);
    }
    return {};
  };
  constexpr std::size_t kWriteSize = 64 * 1024;
  for (const auto& frame : frames) {
    if (out.size() + frame.size() > kWriteSize && !out.empty()) {
      if (auto r = flush(out.data(), out.size()); !r) return r;
      out.clear();
    }
    if (frame.size() >= kWriteSize) {
      if (auto r = flush(frame.data(), frame.size()); !r) return r;
    } else {
      out += frame;
    }
  }
  if (auto r = flush(out.data(), out.size()); !r) return r;
  // Confirmation: our close_notify, then the repository closes its side after reading everything.
  SSL_shutdown(ssl.get());
  char buf[512];
  while (true) {
    if (pastDeadline()) return tooSlow();
    errno = 0;
    const int n = SSL_read(ssl.get(), buf, sizeof buf);
    if (n > 0) continue;  // a repository says nothing in RFC 5425; ignore what it sends
    const int code = SSL_get_error(ssl.get(), n);
    // Only the repository's close_notify confirms: a bare TCP close (a crashed repository, or anyone
    // on the path sending a FIN) is an unexpected EOF, a failure, and the batch is sent again.
    if (code == SSL_ERROR_ZERO_RETURN) return {};
    return tl::make_unexpected(transportError(sslFailure("waiting for the audit repository to close", ssl.get(), n)));
  }
}

void SyslogTlsTransport::cancel() {
  std::lock_guard<std::mutex> lock(mutex_);
  cancelled_ = true;
  const std::uint64_t one = 1;
  if (wakeFd_ >= 0) {
    [[maybe_unused]] const ssize_t n = ::write(wakeFd_, &one, sizeof one);  // a connect under way returns at once
  }
  if (activeFd_ >= 0) ::shutdown(activeFd_, SHUT_RDWR);  // blocked reads and writes return at once
}

}  // namespace hie::exchange

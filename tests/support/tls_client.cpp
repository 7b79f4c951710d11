#include "tests/support/tls_client.h"

#include "common/hex.h"

#include "common/ossl.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <csignal>
#include <stdexcept>

namespace hie::testing {
namespace {

std::string drain() { return hie::ossl::drainErrors(); }

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// A server that closes first must not kill the test process with SIGPIPE.
[[maybe_unused]] const bool kIgnoreSigpipe = [] {
  std::signal(SIGPIPE, SIG_IGN);
  return true;
}();

// A TCP connection to 127.0.0.1:port (throws if refused).
int connectLoopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
  }
  return fd;
}

void setReceiveTimeout(int fd, std::chrono::milliseconds t) {
  timeval tv{static_cast<time_t>(t.count() / 1000), static_cast<suseconds_t>((t.count() % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

// A client context trusting trustRoot and presenting client (if any), shaped by options.
ossl::UniquePtr<SSL_CTX> clientContext(const Credential& trustRoot, const ClientIdentity& client,
                                         const TlsClientOptions& options = {}) {
  ossl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) throw std::runtime_error("SSL_CTX_new failed");
  if (options.securityLevel >= 0) SSL_CTX_set_security_level(ctx.get(), options.securityLevel);
  if (options.minVersion) SSL_CTX_set_min_proto_version(ctx.get(), options.minVersion);
  if (options.maxVersion) SSL_CTX_set_max_proto_version(ctx.get(), options.maxVersion);
  X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), trustRoot.cert());
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (client.leaf != nullptr) {
    if (SSL_CTX_use_certificate(ctx.get(), client.leaf->cert()) != 1 ||
        SSL_CTX_use_PrivateKey(ctx.get(), client.leaf->key()) != 1) {
      throw std::runtime_error("client certificate not usable: " + drain());
    }
    for (const Credential* c : client.chain) SSL_CTX_add1_chain_cert(ctx.get(), c->cert());
  }
  return ctx;
}

void parse(HttpResult& r, const std::string& raw) {
  const auto split = raw.find("\r\n\r\n");
  r.head = raw.substr(0, split);
  r.body = split == std::string::npos ? "" : raw.substr(split + 4);
  if (r.head.compare(0, 5, "HTTP/") == 0) {
    const auto sp = r.head.find(' ');
    if (sp != std::string::npos) r.status = std::atoi(r.head.c_str() + sp + 1);
  }
}

}  // namespace

std::string HttpResult::header(const std::string& name) const {
  std::size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string::npos) {
    pos += 2;
    const auto colon = head.find(':', pos);
    const auto end = head.find("\r\n", pos);
    if (colon == std::string::npos || (end != std::string::npos && colon > end)) continue;
    if (strncasecmp(head.c_str() + pos, name.c_str(), name.size()) == 0 && colon - pos == name.size()) {
      std::string value = head.substr(colon + 1, (end == std::string::npos ? head.size() : end) - colon - 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      return value;
    }
  }
  return {};
}

HttpResult tlsExchange(int port, const Credential& trustRoot, const ClientIdentity& client,
                       const std::string& request, const TlsClientOptions& options) {
  HttpResult r;
  ossl::UniquePtr<SSL_CTX> ctx = clientContext(trustRoot, client, options);
  Fd sock;
  sock.fd = connectLoopback(port);
  timeval tv{options.timeoutSeconds, 0};
  ::setsockopt(sock.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(sock.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  ossl::UniquePtr<SSL> ssl(SSL_new(ctx.get()));
  SSL_set_fd(ssl.get(), sock.fd);
  SSL_set_tlsext_host_name(ssl.get(), "localhost");
  SSL_set1_host(ssl.get(), "localhost");
  ERR_clear_error();
  if (SSL_connect(ssl.get()) != 1) {
    r.tlsRefused = true;
    r.tlsError = "handshake: " + drain();
    return r;
  }
  if (X509* server = SSL_get1_peer_certificate(ssl.get())) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    X509_digest(server, EVP_sha256(), md, &len);
    r.serverCertSha256 = lowerHex(md, len);
    X509_free(server);
  }
  const auto sent = std::chrono::steady_clock::now();
  if (SSL_write(ssl.get(), request.data(), static_cast<int>(request.size())) <= 0) {
    r.tlsRefused = true;
    r.tlsError = "write: " + drain();
    return r;
  }
  std::string raw;
  char buf[16384];
  int interrupted = 0;
  while (true) {
    errno = 0;
    int n = SSL_read(ssl.get(), buf, sizeof buf);
    if (n > 0) {
      raw.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    const int err = SSL_get_error(ssl.get(), n);
    if (err == SSL_ERROR_ZERO_RETURN) break;
    // A signal (e.g. SIGCHLD from a test's pg_ctl) interrupted the read: not the peer's doing.
    if (err == SSL_ERROR_SYSCALL && errno == EINTR && ++interrupted < 100) continue;
    if (raw.empty()) {
      // In TLS 1.3 the server's verdict on our certificate arrives after our
      // handshake "succeeded": an alert (or a reset) instead of a response.
      r.tlsRefused = true;
      r.tlsError = "read: " + drain();
      if (r.tlsError == "read: ") r.tlsError += "connection closed without a response (ssl error " + std::to_string(err) + ")";
      return r;
    }
    break;  // response already read; the peer then closed without close_notify
  }
  r.answeredAfter = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - sent);
  parse(r, raw);
  return r;
}

HttpResult tlsGet(int port, const Credential& trustRoot, const ClientIdentity& client, const std::string& path,
                  const std::vector<std::string>& extraHeaders, const TlsClientOptions& options) {
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";
  for (const auto& h : extraHeaders) request += h + "\r\n";
  request += "\r\n";
  return tlsExchange(port, trustRoot, client, request, options);
}

struct KeepAliveConnection::State {
  ossl::UniquePtr<SSL_CTX> ctx;
  Fd sock;
  ossl::UniquePtr<SSL> ssl;
  std::string pending;  // bytes read past the last response
};

KeepAliveConnection::KeepAliveConnection(int port, const Credential& trustRoot, const ClientIdentity& client,
                                         const SavedSession& resume, const TlsClientOptions& options)
    : state_(std::make_unique<State>()) {
  state_->ctx = clientContext(trustRoot, client, options);
  SSL_CTX_set_session_cache_mode(state_->ctx.get(), SSL_SESS_CACHE_CLIENT);
  state_->sock.fd = connectLoopback(port);
  timeval tv{options.timeoutSeconds, 0};
  ::setsockopt(state_->sock.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(state_->sock.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (options.noDelay) {
    const int on = 1;
    ::setsockopt(state_->sock.fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  }
  state_->ssl.reset(SSL_new(state_->ctx.get()));
  SSL_set_fd(state_->ssl.get(), state_->sock.fd);
  SSL_set_tlsext_host_name(state_->ssl.get(), "localhost");
  SSL_set1_host(state_->ssl.get(), "localhost");
  if (resume) SSL_set_session(state_->ssl.get(), static_cast<SSL_SESSION*>(resume.handle.get()));
  ERR_clear_error();
  connected_ = SSL_connect(state_->ssl.get()) == 1;
  if (!connected_) error_ = "handshake: " + drain();
}

KeepAliveConnection::~KeepAliveConnection() = default;

bool KeepAliveConnection::resumed() const { return connected_ && SSL_session_reused(state_->ssl.get()) == 1; }

SavedSession KeepAliveConnection::session() const {
  SavedSession saved;
  if (SSL_SESSION* s = SSL_get1_session(state_->ssl.get())) {
    saved.handle = std::shared_ptr<void>(s, [](void* p) { ossl::Free<SSL_SESSION>()(static_cast<SSL_SESSION*>(p)); });
  }
  return saved;
}

HttpResult KeepAliveConnection::get(const std::string& path, const std::vector<std::string>& extraHeaders) {
  return send("GET", path, extraHeaders, "");
}

HttpResult KeepAliveConnection::send(const std::string& method, const std::string& path,
                                     const std::vector<std::string>& extraHeaders, const std::string& body) {
  HttpResult r;
  if (!connected_) {
    r.tlsRefused = true;
    r.tlsError = error_;
    return r;
  }
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\n";
  for (const auto& h : extraHeaders) request += h + "\r\n";
  if (!body.empty()) request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  request += "\r\n" + body;
  SSL* ssl = state_->ssl.get();
  ERR_clear_error();
  if (SSL_write(ssl, request.data(), static_cast<int>(request.size())) <= 0) {
    r.tlsRefused = true;
    r.tlsError = "write: " + drain();
    return r;
  }
  std::string& raw = state_->pending;
  std::size_t need = std::string::npos;  // bytes of the whole response, once its head is in
  char buf[16384];
  int interrupted = 0;
  while (need == std::string::npos || raw.size() < need) {
    if (need == std::string::npos) {
      const auto split = raw.find("\r\n\r\n");
      if (split != std::string::npos) {
        HttpResult head;
        parse(head, raw.substr(0, split + 4));
        const std::string length = head.header("Content-Length");
        need = split + 4 + static_cast<std::size_t>(length.empty() ? 0 : std::stoul(length));
        continue;
      }
    }
    errno = 0;
    const int n = SSL_read(ssl, buf, sizeof buf);
    if (n > 0) {
      raw.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    const int err = SSL_get_error(ssl, n);
    if (err == SSL_ERROR_SYSCALL && errno == EINTR && ++interrupted < 100) continue;
    r.tlsRefused = true;
    r.tlsError = "read: " + drain();
    if (r.tlsError == "read: ") r.tlsError += "connection closed before a complete response (ssl error " + std::to_string(err) + ")";
    connected_ = false;
    error_ = r.tlsError;
    return r;
  }
  parse(r, raw.substr(0, need));
  raw.erase(0, need);
  return r;
}

bool KeepAliveConnection::closedByServer(std::chrono::milliseconds within) {
  if (!connected_) return true;
  setReceiveTimeout(state_->sock.fd, within);
  char buf[4096];
  while (true) {
    errno = 0;
    const int n = SSL_read(state_->ssl.get(), buf, sizeof buf);
    if (n > 0) continue;  // e.g. the rest of a response; keep reading until the close
    const int err = SSL_get_error(state_->ssl.get(), n);
    ERR_clear_error();
    if (err == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
    connected_ = false;
    return true;
  }
}

RawConnection::RawConnection(int port) : fd_(connectLoopback(port)) {}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::send(const std::string& bytes) {
  return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
}

bool RawConnection::closedByServer(std::chrono::milliseconds within) {
  setReceiveTimeout(fd_, within);
  char buf[4096];
  while (true) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) continue;  // e.g. a TLS alert; keep reading until the close
    if (n == 0) return true;
    return errno != EAGAIN && errno != EWOULDBLOCK;  // reset counts as closed
  }
}

bool tlsIdleConnectionIsCut(int port, const Credential& trustRoot, const ClientIdentity& client,
                            std::chrono::milliseconds within) {
  ossl::UniquePtr<SSL_CTX> ctx = clientContext(trustRoot, client);
  Fd sock;
  sock.fd = connectLoopback(port);
  setReceiveTimeout(sock.fd, within);
  ossl::UniquePtr<SSL> ssl(SSL_new(ctx.get()));
  SSL_set_fd(ssl.get(), sock.fd);
  if (SSL_connect(ssl.get()) != 1) throw std::runtime_error("handshake failed: " + drain());
  char buf[256];
  while (true) {
    int n = SSL_read(ssl.get(), buf, sizeof buf);  // TLS 1.3 session tickets arrive here first
    if (n > 0) continue;
    const int err = SSL_get_error(ssl.get(), n);
    ERR_clear_error();
    if (err == SSL_ERROR_ZERO_RETURN) return true;
    if (err == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
    return true;
  }
}

TrickleOutcome tlsTrickle(int port, const Credential& trustRoot, const ClientIdentity& client,
                          const std::string& bytes, std::chrono::milliseconds gap, std::chrono::milliseconds within,
                          std::atomic<int>* connected) {
  TrickleOutcome out;
  const auto deadline = std::chrono::steady_clock::now() + within;
  ossl::UniquePtr<SSL_CTX> ctx = clientContext(trustRoot, client);
  Fd sock;
  sock.fd = connectLoopback(port);
  // A connection queued for a worker waits for its handshake; bound that wait by `within`.
  setReceiveTimeout(sock.fd, within);
  ossl::UniquePtr<SSL> ssl(SSL_new(ctx.get()));
  SSL_set_fd(ssl.get(), sock.fd);
  if (SSL_connect(ssl.get()) != 1) {
    ERR_clear_error();
    return out;
  }
  out.connected = true;
  if (connected != nullptr) ++*connected;
  // Non-blocking from here: TLS 1.3 session tickets make the socket readable without any HTTP to read.
  ::fcntl(sock.fd, F_SETFL, ::fcntl(sock.fd, F_GETFL) | O_NONBLOCK);
  std::string answer;
  auto serverEnded = [&]() {
    char buf[4096];
    while (true) {
      const int n = SSL_read(ssl.get(), buf, sizeof buf);
      if (n > 0) {
        answer.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      const int err = SSL_get_error(ssl.get(), n);
      ERR_clear_error();
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return !answer.empty();
      return true;  // close_notify, EOF or reset
    }
  };
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{sock.fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(gap.count())) > 0 && serverEnded()) {
      out.cut = true;
      break;
    }
    if (out.bytesSent < bytes.size()) {
      const int n = SSL_write(ssl.get(), bytes.data() + out.bytesSent, 1);
      if (n == 1) {
        ++out.bytesSent;
      } else {
        const int err = SSL_get_error(ssl.get(), n);
        ERR_clear_error();
        if (err != SSL_ERROR_WANT_WRITE && err != SSL_ERROR_WANT_READ) {
          out.cut = true;  // the server is gone
          break;
        }
      }
    }
  }
  if (answer.compare(0, 5, "HTTP/") == 0) {
    HttpResult r;
    parse(r, answer);
    out.status = r.status;
  }
  return out;
}

}  // namespace hie::testing

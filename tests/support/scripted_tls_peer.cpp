#include "tests/support/scripted_tls_peer.h"
#include "tests/support/loopback_listener.h"

#include "auth/identity/certificate_identity.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <csignal>
#include <stdexcept>

namespace hie::testing {
namespace {

[[maybe_unused]] const bool kIgnoreSigpipe = [] {
  std::signal(SIGPIPE, SIG_IGN);
  return true;
}();

std::string field(const auth::FieldList& fields, const char* name) {
  for (const auto& [n, v] : fields) {
    if (::strcasecmp(n.c_str(), name) == 0) return v;
  }
  return "";
}

// Parses "METHOD TARGET HTTP/1.1\r\nName: value\r\n...\r\n\r\n" (no folding, as the client sends).
ReceivedRequest parseHead(const std::string& head) {
  ReceivedRequest r;
  std::size_t end = head.find("\r\n");
  const std::string line = head.substr(0, end);
  const std::size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  r.method = line.substr(0, sp1);
  r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::size_t pos = end + 2;
  while (pos < head.size()) {
    end = head.find("\r\n", pos);
    if (end == std::string::npos || end == pos) break;
    const std::string h = head.substr(pos, end - pos);
    const std::size_t colon = h.find(':');
    std::string value = h.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    r.fields.emplace_back(h.substr(0, colon), value);
    pos = end + 2;
  }
  return r;
}

}  // namespace

auth::HttpMessage ReceivedRequest::message() const {
  auth::HttpMessage m;
  m.method = method;
  m.targetUri = "https://" + field(fields, "host") + target;
  m.fields = fields;
  return m;
}

std::string httpAnswer(int status, const auth::FieldList& fields, const std::string& body) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Answer") + "\r\n";
  for (const auto& [n, v] : fields) out += n + ": " + v + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  return out;
}

ScriptedTlsPeer::ScriptedTlsPeer(const Credential& server, const Credential& intermediate, Script script)
    : script_(std::move(script)), ctx_(SSL_CTX_new(TLS_server_method())) {
  if (!ctx_ || SSL_CTX_use_certificate(ctx_.get(), server.cert()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx_.get(), server.key()) != 1 ||
      SSL_CTX_add1_chain_cert(ctx_.get(), intermediate.cert()) != 1) {
    throw std::runtime_error("scripted peer: TLS context: " + ossl::drainErrors());
  }
  SSL_CTX_set_min_proto_version(ctx_.get(), TLS1_2_VERSION);
  // Asks for the client's certificate and takes any: the test judges what the request says with it.
  SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
  // With client certificates asked for, a resumed session needs a context id (the client resumes).
  static const unsigned char kContext[] = "scripted-peer";
  SSL_CTX_set_session_id_context(ctx_.get(), kContext, sizeof kContext - 1);
  const LoopbackListener listener = listenOnLoopback(16, "scripted peer:");
  listenFd_ = listener.fd;
  port_ = listener.port;
  thread_ = std::thread([this] { run(); });
}

ScriptedTlsPeer::~ScriptedTlsPeer() {
  stop_ = true;
  thread_.join();  // polls stop_ at least every 50 ms; a connection is bounded by its 5 s timeouts
  ::close(listenFd_);
}

std::vector<ReceivedRequest> ScriptedTlsPeer::received() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return received_;
}

void ScriptedTlsPeer::run() {
  while (!stop_) {
    pollfd p{listenFd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    serve(fd);
    ::close(fd);
  }
}

void ScriptedTlsPeer::serve(int fd) {
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  ossl::UniquePtr<SSL> ssl(SSL_new(ctx_.get()));
  if (!ssl) return;
  SSL_set_fd(ssl.get(), fd);
  if (SSL_accept(ssl.get()) != 1) {
    ERR_clear_error();
    return;
  }
  std::string data;
  char buf[4096];
  std::size_t headEnd = std::string::npos;
  while ((headEnd = data.find("\r\n\r\n")) == std::string::npos && data.size() < 65536) {
    const int n = SSL_read(ssl.get(), buf, sizeof buf);
    if (n <= 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  if (headEnd == std::string::npos) {
    ERR_clear_error();
    return;
  }
  ReceivedRequest request = parseHead(data.substr(0, headEnd + 2));
  const std::string length = field(request.fields, "content-length");
  const std::size_t want = length.empty() ? 0 : std::stoul(length);
  request.body = data.substr(headEnd + 4);
  if (ossl::UniquePtr<X509> client{SSL_get1_peer_certificate(ssl.get())}) {
    if (auto id = auth::extractIdentity(client.get())) request.client = std::move(*id);
  }
  while (request.body.size() < want) {
    const int n = SSL_read(ssl.get(), buf, sizeof buf);
    if (n <= 0) break;
    request.body.append(buf, static_cast<std::size_t>(n));
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    received_.push_back(request);
  }
  const std::string answer = script_(request);
  if (!answer.empty()) {
    SSL_write(ssl.get(), answer.data(), static_cast<int>(answer.size()));
    SSL_shutdown(ssl.get());
  }
  ERR_clear_error();
}

}  // namespace hie::testing

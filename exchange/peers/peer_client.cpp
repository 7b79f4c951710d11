#include "exchange/peers/peer_client.h"

#include <algorithm>
#include <optional>

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/Session.h>
#include <Poco/Net/SSLException.h>

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include "auth/identity/certificate_identity.h"
#include "auth/tls/handshake_verification.h"
#include "common/ossl.h"
#include "exchange/http/request_id.h"
#include "exchange/net/poco_ssl_handle.h"
#include "exchange/peers/call_signatures.h"
#include "exchange/peers/peer_url.h"
#include "auth/signatures/tls_signing_key.h"

namespace hie::exchange {
namespace {

using Clock = std::chrono::steady_clock;

// Poco's Session has a protected constructor; this one adopts a session reference we captured.
class ResumableSession : public Poco::Net::Session {
 public:
  explicit ResumableSession(SSL_SESSION* session) : Poco::Net::Session(session) {}
};

// One attempt's hold on its call's deadline: every connection the attempt
// uses is watched from the moment it is connected until the attempt ends.
class AttemptDeadline {
 public:
  AttemptDeadline(SocketDeadlines& deadlines, Clock::time_point deadline) : deadlines_(deadlines), deadline_(deadline) {}

  // Throws when no connection may be opened any more: past the deadline, or the client is stopping.
  void beforeConnect() {
    if (deadlines_.cancelled()) {
      cut_ = SocketDeadlines::Cut::kCancelled;
      throw Poco::TimeoutException("the client is stopping");
    }
    if (Clock::now() >= deadline_) {
      cut_ = SocketDeadlines::Cut::kDeadline;
      throw Poco::TimeoutException("the call's deadline has passed");
    }
  }

  void watch(int fd) {
    end();
    auto watched = deadlines_.watch(fd, deadline_);
    if (!watched) throw Poco::IOException(watched.error().internal);
    watch_ = std::move(*watched);
  }

  // Stops watching; says whether a connection of this attempt was cut, and why.
  SocketDeadlines::Cut end() {
    const SocketDeadlines::Cut cut = watch_.release();
    if (cut != SocketDeadlines::Cut::kNone) cut_ = cut;
    return cut_;
  }

 private:
  SocketDeadlines& deadlines_;
  Clock::time_point deadline_;
  SocketDeadlines::Watch watch_;
  SocketDeadlines::Cut cut_ = SocketDeadlines::Cut::kNone;
};

// An HTTPS session whose every connection is watched by its attempt's
// deadline: the TLS handshake runs inside connect() once the watch has
// started (Poco would run it before the socket can be watched, bounded only
// by per-read timeouts). Poco reconnects on its own (a stale keep-alive
// connection, a failed first write): that comes through here too.
class WatchedSession : public Poco::Net::HTTPSClientSession {
 public:
  using Poco::Net::HTTPSClientSession::HTTPSClientSession;

  void attach(AttemptDeadline* attempt) { attempt_ = attempt; }
  int fd() { return static_cast<int>(socket().impl()->sockfd()); }
  // The certificate the server presented on this session's connection: what its answers are checked against.
  Result<auth::PeerIdentity> serverIdentity() {
    Poco::Net::SecureStreamSocket secure(socket());
    SSL* ssl = sslOf(secure);
    ossl::UniquePtr<X509> certificate(ssl != nullptr ? SSL_get1_peer_certificate(ssl) : nullptr);
    if (!certificate) return fail(ErrorCode::kUnauthenticated, "the peer's certificate is not at hand");
    return auth::extractIdentity(certificate.get());
  }
  // Why our verification refused the server in this session's last handshake, if it did.
  const std::optional<auth::HandshakeRefusal>& refusal() const { return refusal_; }

 protected:
  void connect(const Poco::Net::SocketAddress& address) override {
    if (attempt_ == nullptr) throw Poco::IllegalStateException("an outbound connection without a deadline");
    refusal_.reset();
    attempt_->beforeConnect();
    Poco::Net::SecureStreamSocket secure(socket());
    secure.setLazyHandshake(true);
    Poco::Net::HTTPSClientSession::connect(address);  // TCP only, within the connection timeout
    attempt_->watch(static_cast<int>(secure.impl()->sockfd()));
    SSL* ssl = sslOf(secure);
    try {
      if (secure.completeHandshake() != 1) throw Poco::Net::SSLConnectionUnexpectedlyClosedException();
    } catch (...) {
      // Copied now: the record is freed with the SSL when the session is reset.
      const auth::VerificationRecord* record = ssl != nullptr ? auth::findVerificationRecord(ssl) : nullptr;
      if (record != nullptr) refusal_ = record->refusal;
      throw;
    }
  }

 private:
  AttemptDeadline* attempt_ = nullptr;
  std::optional<auth::HandshakeRefusal> refusal_;
};

PeerFailure failure(std::string reason, std::string detail, PeerCallSignatures signatures = {}) {
  return PeerFailure{std::move(reason), std::move(detail), std::move(signatures)};
}

std::int64_t wallSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool hasRequestId(const HeaderList& headers) { return auth::hasField(headers, "x-request-id"); }

// Builds the key a client signs with from its TLS material, or says why it cannot.
std::shared_ptr<const auth::MessageSigningKey> signingKeyOf(const auth::TlsMaterial* material, std::string& error) {
  error.clear();
  if (material == nullptr) {
    error = "no TLS material";
    return nullptr;
  }
  auto key = auth::tlsSigningKey(*material);
  if (!key) {
    error = key.error().internal;
    spdlog::error("peer client: requests cannot be signed: {}", error);
    return nullptr;
  }
  return std::make_shared<const auth::MessageSigningKey>(std::move(*key));
}

PeerFailure cutFailure(SocketDeadlines::Cut cut) {
  return cut == SocketDeadlines::Cut::kCancelled ? failure("timeout", "cancelled: the node is shutting down")
                                               : failure("timeout", "no answer before the deadline");
}

Poco::Timespan span(std::chrono::milliseconds ms) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(std::max<long long>(ms.count(), 1)) * 1000);
}

}  // namespace

struct PeerClient::Channel {
  PeerUrl url;
  auth::ClientTlsContext tls;
  std::shared_ptr<const auth::MessageSigningKey> signingKey;  // of the certificate tls presents; null: see signingKeyError
  std::string signingKeyError;
  std::mutex mutex;
  std::vector<std::unique_ptr<WatchedSession>> idle;
};

PeerClient::PeerClient(std::shared_ptr<const auth::TlsMaterial> material, const auth::OrganizationDirectory& directory,
                       ClientOptions options, Counters& counters)
    : material_(std::move(material)),
      directory_(directory),
      options_(options),
      counters_(counters),
      pool_(static_cast<std::size_t>(std::max(1, options.maxConcurrentCalls))) {
  if (options_.signatures.sign) signingKey_ = signingKeyOf(material_.get(), signingKeyError_);
}

PeerClient::~PeerClient() { stop(); }

void PeerClient::stop() {
  pool_.close();           // no waiting call starts any more
  deadlines_.cancelAll();  // the running ones end at once, and none connects again
  pool_.stop();
}

bool PeerClient::submit(Clock::time_point deadline, std::function<void()> call) {
  return pool_.submit(deadline, std::move(call));
}

void PeerClient::useMaterial(std::shared_ptr<const auth::TlsMaterial> material) {
  std::lock_guard<std::mutex> lock(mutex_);
  material_ = std::move(material);
  if (options_.signatures.sign) signingKey_ = signingKeyOf(material_.get(), signingKeyError_);
  channels_.clear();  // calls in flight keep their channel alive through their shared_ptr
}

Result<std::shared_ptr<PeerClient::Channel>> PeerClient::channel(const auth::PeerEntry& peer) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string key = peer.organization + " " + peer.baseUrl;
  if (auto it = channels_.find(key); it != channels_.end()) return it->second;
  auto url = parsePeerUrl(peer.baseUrl);
  if (!url) return tl::make_unexpected(url.error());
  auto tls = auth::makeClientContext(*material_, auth::ExpectedHost{url->host, url->hostIsIp()}, peer.organization, directory_);
  if (!tls) return tl::make_unexpected(tls.error());
  auto ch = std::make_shared<Channel>();
  ch->url = *url;
  ch->tls = std::move(*tls);
  ch->signingKey = signingKey_;
  ch->signingKeyError = signingKeyError_;
  channels_[key] = ch;
  return ch;
}

struct PeerClient::Outgoing {
  const std::string& method;
  const std::string& pathAndQuery;
  const std::string* body;  // null: none (GET)
  const std::string& contentType;
  const HeaderList& headers;
};

tl::expected<PeerResponse, PeerFailure> PeerClient::get(const auth::PeerEntry& peer, const std::string& pathAndQuery,
                                                        const HeaderList& headers, Clock::time_point deadline) {
  static const std::string kGet = Poco::Net::HTTPRequest::HTTP_GET, kNone;
  return call(peer, Outgoing{kGet, pathAndQuery, nullptr, kNone, headers}, deadline, options_.retries);
}

tl::expected<PeerResponse, PeerFailure> PeerClient::post(const auth::PeerEntry& peer, const std::string& pathAndQuery,
                                                         const std::string& body, const std::string& contentType,
                                                         const HeaderList& headers, Clock::time_point deadline) {
  static const std::string kPost = Poco::Net::HTTPRequest::HTTP_POST;
  return call(peer, Outgoing{kPost, pathAndQuery, &body, contentType, headers}, deadline, 0);
}

tl::expected<PeerResponse, PeerFailure> PeerClient::call(const auth::PeerEntry& peer, const Outgoing& outgoing,
                                                         Clock::time_point deadline, int retries) {
  if (deadlines_.cancelled()) return tl::make_unexpected(cutFailure(SocketDeadlines::Cut::kCancelled));
  auto ch = channel(peer);
  if (!ch) return tl::make_unexpected(failure("bad_directory_entry", ch.error().external));
  Channel& c = **ch;
  const bool sign = options_.signatures.sign;
  if (sign && !c.signingKey) {
    counters_.peerCallFailures.inc({"failures", "signing_failed"});
    return tl::make_unexpected(failure("signing_failed", "this node cannot sign its request: " + c.signingKeyError));
  }
  const auth::SignaturePolicy policy =
      answerPolicy(options_.signatures.answers, directory_.snapshot().get(), peer.organization);
  // A signed request must carry X-Request-Id; the callers set one, this covers any other.
  HeaderList headers = outgoing.headers;
  if (!hasRequestId(headers)) headers.emplace_back("X-Request-Id", newRequestId());
  PeerFailure last = failure("timeout", "no answer before the deadline");
  bool staleDropped = false;
  for (int attempt = 0; attempt <= retries; ++attempt) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      counters_.peerTimeouts.inc();
      return tl::make_unexpected(failure("timeout", "no answer before the deadline", last.signatures));
    }
    std::unique_ptr<WatchedSession> session;
    bool pooled = false;
    {
      std::lock_guard<std::mutex> lock(c.mutex);
      if (!c.idle.empty()) {
        session = std::move(c.idle.back());
        c.idle.pop_back();
        pooled = true;
      }
    }
    if (!session) {
      // A new connection offers the newest session the peer handed out, for an abbreviated handshake.
      if (SSL_SESSION* resumable = c.tls.takeResumableSession()) {
        session = std::make_unique<WatchedSession>(c.url.host, c.url.port, c.tls.context,
                                                   Poco::Net::Session::Ptr(new ResumableSession(resumable)));
      } else {
        session = std::make_unique<WatchedSession>(c.url.host, c.url.port, c.tls.context);
      }
      session->setKeepAlive(true);
      // Shorter than the server's keep-alive timeout, so an idle connection is not reused after the peer dropped it.
      session->setKeepAliveTimeout(Poco::Timespan(2, 0));
    }
    session->setTimeout(span(std::min(options_.connectTimeout, left)), span(std::min(left, options_.readTimeout)),
                        span(std::min(left, options_.readTimeout)));
    // Declared after the session: it ends (unwatching the connection) before the session closes it.
    AttemptDeadline attemptDeadline(deadlines_, deadline);
    session->attach(&attemptDeadline);
    // This attempt's request as RFC 9421 sees it, and its signature (each attempt is signed anew: a new nonce).
    auth::HttpMessage sent;
    std::optional<auth::SignatureEvidence> requestSignature;
    PeerCallSignatures signatures;
    try {
      if (session->connected()) attemptDeadline.watch(session->fd());  // a pooled connection
      Poco::Net::HTTPRequest request(outgoing.method, c.url.pathPrefix + outgoing.pathAndQuery,
                                     Poco::Net::HTTPMessage::HTTP_1_1);
      request.setHost(c.url.host, c.url.port);
      for (const auto& [name, value] : headers) request.set(name, value);
      if (outgoing.body != nullptr) {
        request.setContentType(outgoing.contentType);
        request.setContentLength(static_cast<std::streamsize>(outgoing.body->size()));
      }
      // @target-uri: the Host field and the request-target exactly as they go on the wire.
      sent.method = outgoing.method;
      sent.targetUri = "https://" + request.getHost() + request.getURI();
      sent.fields = headers;
      if (sign) {
        auto signedFields = auth::signRequest(*c.signingKey, sent, outgoing.body, wallSeconds());
        if (!signedFields) {
          session->attach(nullptr);
          counters_.peerCallFailures.inc({"failures", "signing_failed"});
          return tl::make_unexpected(
              failure("signing_failed", "this node cannot sign its request: " + signedFields.error().internal));
        }
        for (const auto& [name, value] : signedFields->fields) {
          request.set(name, value);
          sent.fields.emplace_back(name, value);
        }
        signatures.requestSignatureBase = signedFields->evidence.base;
        signatures.requestSignature = signedFields->evidence.signature;
        requestSignature = std::move(signedFields->evidence);
      }
      if (outgoing.body != nullptr) {
        session->sendRequest(request).write(outgoing.body->data(), static_cast<std::streamsize>(outgoing.body->size()));
      } else {
        session->sendRequest(request);
      }
      Poco::Net::HTTPResponse response;
      std::istream& in = session->receiveResponse(response);
      PeerResponse out;
      out.status = response.getStatus();
      out.contentType = response.getContentType();
      char buf[16384];
      while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        out.body.append(buf, static_cast<std::size_t>(in.gcount()));
        if (out.body.size() > options_.maxResponseBytes) {
          session->reset();
          return tl::make_unexpected(
              failure("response_too_large", "the peer's answer exceeds the size limit", signatures));
        }
      }
      session->attach(nullptr);
      if (const auto cut = attemptDeadline.end(); cut != SocketDeadlines::Cut::kNone) {
        // A cut connection reads as the end of the answer: what arrived may be cut short.
        session->reset();
        counters_.peerCallFailures.inc({"failures", "timeout"});
        PeerFailure f = cutFailure(cut);
        f.signatures = signatures;
        return tl::make_unexpected(std::move(f));
      }
      // The answer is checked against the certificate of the connection it came on.
      out.signatures = signatures;
      std::string spkiDer, certSha256;
      if (policy != auth::SignaturePolicy::kOff) {
        auto server = session->serverIdentity();
        if (!server) {
          session->reset();
          counters_.peerCallFailures.inc({"failures", "tls"});
          return tl::make_unexpected(failure("tls", "the peer's certificate cannot be read: " + server.error().internal,
                                             signatures));
        }
        spkiDer = std::move(server->publicKeyDer);
        certSha256 = std::move(server->certSha256);
      }
      auth::HttpMessage answer;
      answer.status = out.status;
      for (const auto& [name, value] : response) answer.fields.emplace_back(name, value);
      const auth::SignatureWindow window{wallSeconds(), static_cast<std::int64_t>(options_.signatures.maxAge.count()),
                                         static_cast<std::int64_t>(options_.signatures.clockSkew.count())};
      if (auto refused = checkAnswer(policy, answer, out.body, sent, requestSignature ? &*requestSignature : nullptr,
                                     spkiDer, certSha256, window, out.signatures)) {
        // A verdict on what the peer sent, not a transient error: no retry, and the body is not used.
        session->reset();
        counters_.peerCallFailures.inc({"refused", refused->reason});
        return tl::make_unexpected(std::move(*refused));
      }
      if (response.getKeepAlive()) {
        std::lock_guard<std::mutex> lock(c.mutex);
        if (c.idle.size() < 8) c.idle.push_back(std::move(session));
      }
      return out;
    } catch (const Poco::Exception& e) {
      session->reset();
      session->attach(nullptr);
      if (const auto cut = attemptDeadline.end(); cut != SocketDeadlines::Cut::kNone) {
        // The deadline passed (or the client stops): no retry can help.
        counters_.peerCallFailures.inc({"failures", "timeout"});
        PeerFailure f = cutFailure(cut);
        f.signatures = signatures;
        return tl::make_unexpected(std::move(f));
      }
      if (const auto& refusal = session->refusal()) {
        // A verification failure is a verdict, not a transient error: no retry.
        counters_.peerCallFailures.inc({"refused", refusal->reason});
        const std::string reason = refusal->reason == "impersonation" ? "impersonation" : "tls_" + refusal->reason;
        return tl::make_unexpected(
            failure(reason, "TLS verification of the peer failed: " + refusal->detail, signatures));
      }
      const std::string text = e.displayText();
      if (dynamic_cast<const Poco::TimeoutException*>(&e) != nullptr || text.find("Timeout") != std::string::npos ||
          text.find("timed out") != std::string::npos) {
        last = failure("timeout", "the peer did not answer in time", signatures);
      } else if (dynamic_cast<const Poco::Net::SSLException*>(&e) != nullptr) {
        last = failure("tls", "TLS with the peer failed: " + text, signatures);
      } else {
        last = failure("connect", "cannot reach the peer: " + text, signatures);
      }
      counters_.peerCallFailures.inc({"failures", last.reason});
      if (pooled && !staleDropped && last.reason != "timeout") {
        // A pooled connection that fails at once was most likely closed by the peer while idle (it
        // restarted, or dropped it): the other idle ones to it are as stale. Drop them all and try
        // once more on a new connection, without spending one of the caller's retries on the pool.
        std::lock_guard<std::mutex> lock(c.mutex);
        c.idle.clear();
        staleDropped = true;
        --attempt;
      }
    }
  }
  return tl::make_unexpected(last);
}

}  // namespace hie::exchange

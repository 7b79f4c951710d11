#include "exchange/http/https_server.h"

#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <ctime>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponseImpl.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>
#include <spdlog/spdlog.h>

#include "auth/identity/certificate_identity.h"
#include "auth/tls/handshake_verification.h"
#include "exchange/fhir/fhir_request.h"
#include "exchange/fhir/operation_outcome.h"
#include "exchange/http/audit_events.h"
#include "exchange/http/request_id.h"

namespace hie::exchange {

// The per-read timeout alone lets a peer that sends one byte at a time hold
// a worker thread for ever (slowloris). Each connection arms a deadline for
// its whole handshake and for each whole request head; one thread shuts the
// socket's receive side when a deadline passes, which ends the blocked read.
class HeadDeadlines {
 public:
  class Armed;

  HeadDeadlines() : thread_([this] { run(); }) {}
  ~HeadDeadlines() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  HeadDeadlines(const HeadDeadlines&) = delete;
  HeadDeadlines& operator=(const HeadDeadlines&) = delete;

 private:
  struct Entry {
    int fd;
    std::chrono::steady_clock::time_point deadline;
    bool* fired;
  };

  std::uint64_t arm(int fd, std::chrono::steady_clock::time_point deadline, bool* fired) {
    std::uint64_t token = 0;
    bool sooner = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      token = ++next_;
      armed_.emplace(token, Entry{fd, deadline, fired});
      // Every deadline has the same length, so a new one is almost never the earliest:
      // wake the watchdog only when it would otherwise sleep past this one.
      sooner = deadline < sleepingUntil_;
    }
    if (sooner) wake_.notify_one();
    return token;
  }

  void disarm(std::uint64_t token) {
    // Under the lock: once this returns the fd is never touched again, so closing it is safe.
    std::lock_guard<std::mutex> lock(mutex_);
    armed_.erase(token);
  }

  void run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stop_) {
      if (armed_.empty()) {
        sleepingUntil_ = std::chrono::steady_clock::time_point::max();
        wake_.wait(lock);
        continue;
      }
      auto earliest = armed_.begin()->second.deadline;
      for (const auto& [token, e] : armed_) earliest = std::min(earliest, e.deadline);
      sleepingUntil_ = earliest;
      wake_.wait_until(lock, earliest);  // woken early by a sooner arm(), stop or spuriously: sweep anyway
      sleepingUntil_ = std::chrono::steady_clock::time_point::min();  // awake: arm() need not wake it
      const auto now = std::chrono::steady_clock::now();
      for (auto it = armed_.begin(); it != armed_.end();) {
        if (it->second.deadline <= now) {
          *it->second.fired = true;
          ::shutdown(it->second.fd, SHUT_RD);
          it = armed_.erase(it);
        } else {
          ++it;
        }
      }
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::uint64_t, Entry> armed_;
  std::uint64_t next_ = 0;
  // When the watchdog will next look (min while it is awake and about to sweep).
  std::chrono::steady_clock::time_point sleepingUntil_ = std::chrono::steady_clock::time_point::min();
  bool stop_ = false;
  std::thread thread_;  // last: starts once everything above exists
};

// One armed deadline; disarmed when the head has arrived or when it goes out of scope.
class HeadDeadlines::Armed {
 public:
  Armed(HeadDeadlines& owner, int fd, std::chrono::steady_clock::duration limit)
      : owner_(owner), token_(owner.arm(fd, std::chrono::steady_clock::now() + limit, &fired_)) {}
  ~Armed() { disarm(); }
  Armed(const Armed&) = delete;
  Armed& operator=(const Armed&) = delete;
  void disarm() {
    if (token_ != 0) owner_.disarm(token_);
    token_ = 0;
  }
  // True when the deadline passed (the watchdog writes it under its lock; read it only after disarm()).
  bool fired() {
    disarm();
    return fired_;
  }

 private:
  HeadDeadlines& owner_;
  bool fired_ = false;  // before token_: the watchdog may write it as soon as arm() returns
  std::uint64_t token_;
};

namespace {

using Poco::Net::HTTPResponse;

constexpr std::streamsize kMaxDrainedBody = 64 * 1024;

// Printable ASCII only, bounded: what reaches a log line from the network.
std::string forLog(const std::string& text, std::size_t max = 256) {
  std::string out;
  for (unsigned char c : text.substr(0, max)) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (text.size() > max) out += "...";
  return out;
}

// The path as logged: FHIR resource ids (which can name a patient) become {id}.
std::string pathForLog(const std::string& rawPath) {
  static const std::string kFhir = "/fhir/";
  if (rawPath.compare(0, kFhir.size(), kFhir) != 0) return rawPath;
  const auto slash = rawPath.find('/', kFhir.size());
  if (slash == std::string::npos) return rawPath;
  return rawPath.substr(0, slash) + "/{id}";
}

// A reason name for a handshake that failed without a certificate verdict.
const char* handshakeFailureReason(const std::string& message) {
  if (message.find("peer did not return a certificate") != std::string::npos) return "no_certificate";
  if (message.find("unsupported protocol") != std::string::npos ||
      message.find("wrong version number") != std::string::npos ||
      message.find("version too low") != std::string::npos) {
    return "protocol_version";
  }
  if (message.find("no shared cipher") != std::string::npos) return "no_shared_cipher";
  if (message.find("Timeout") != std::string::npos || message.find("timed out") != std::string::npos) {
    return "handshake_timeout";
  }
  if (message.find("http request") != std::string::npos) return "not_tls";
  return "handshake_failed";
}

// Poco's message parser reports limits only as text.
int statusForMalformedRequest(const std::string& message) {
  if (message.find("URI invalid or too long") != std::string::npos) return 414;
  if (message.find("header fields") != std::string::npos || message.find("Field name too long") != std::string::npos ||
      message.find("Field value too long") != std::string::npos) {
    return 431;
  }
  return 400;
}

// Everything the handlers and the audit may pass to PostgreSQL must be UTF-8
// text: the raw URI, the decoded path and query, and every header field.
bool isUtf8Request(const Poco::Net::HTTPServerRequestImpl& request, const HttpCall& call) {
  if (!isValidUtf8(request.getURI()) || !isValidUtf8(call.path)) return false;
  for (const auto& [name, value] : call.query) {
    if (!isValidUtf8(name) || !isValidUtf8(value)) return false;
  }
  for (const auto& [name, value] : request) {
    if (!isValidUtf8(name) || !isValidUtf8(value)) return false;
  }
  return true;
}

void writeReply(HTTPResponse& response, const HttpReply& reply, const std::string& requestId) {
  response.setStatus(static_cast<HTTPResponse::HTTPStatus>(reply.status));
  response.setReason(HTTPResponse::getReasonForStatus(static_cast<HTTPResponse::HTTPStatus>(reply.status)));
  response.setContentType(reply.contentType);
  response.set("X-Request-Id", requestId);
  response.set("Cache-Control", "no-store");
  response.set("X-Content-Type-Options", "nosniff");
  for (const auto& [name, value] : reply.headers) response.set(name, value);
  response.setContentLength(static_cast<std::streamsize>(reply.body.size()));
}

class GateConnection : public Poco::Net::TCPServerConnection {
 public:
  GateConnection(const Poco::Net::StreamSocket& socket, Poco::Net::HTTPServerParams::Ptr params,
                 const auth::ClientRecheck& recheck, const RequestGate& gate, audit::AuditSink& audit,
                 Counters& counters, const std::atomic<bool>& stopping, HeadDeadlines& deadlines)
      : TCPServerConnection(socket),
        params_(std::move(params)),
        recheck_(recheck),
        gate_(gate),
        audit_(audit),
        counters_(counters),
        stopping_(stopping),
        deadlines_(deadlines) {}

  void run() override {
    std::string remote;
    try {
      remote = socket().peerAddress().toString();
      local_ = socket().address().toString();
    } catch (const Poco::Exception&) {
      return;  // already gone
    }
    auto peer = handshake(remote);
    if (!peer) return;
    serve(remote, *peer);
  }

 private:
  std::optional<auth::PeerIdentity> handshake(const std::string& remote) {
    auth::clearHandshakeRefusal();
    std::string failure;
    HeadDeadlines::Armed deadline(deadlines_, socket().impl()->sockfd(), headLimit());
    try {
      Poco::Net::SecureStreamSocket tls(socket());
      const Poco::Timespan timeout(params_->getTimeout());
      tls.setReceiveTimeout(timeout);
      tls.setSendTimeout(timeout);
      tls.completeHandshake();
      auto standing = recheck_.takeHandshake();
      if (tls.sessionWasReused()) counters_.tlsSessionsResumed.inc();
      if (!tls.havePeerCertificate()) {
        failure = "peer did not return a certificate";
      } else if (!standing) {
        failure = standing.error().internal;
      } else {
        Poco::Crypto::X509Certificate cert = tls.peerCertificate();
        auto identity = auth::extractIdentity(cert.certificate());
        if (identity && !deadline.fired()) {
          standing_ = std::move(*standing);
          return *identity;
        }
        failure = identity ? "handshake timed out" : identity.error().internal;
      }
    } catch (const Poco::Exception& e) {
      failure = e.displayText();
    } catch (const std::exception& e) {
      failure = e.what();
    }
    const auth::HandshakeRefusal* refusal = auth::lastHandshakeRefusal();
    const std::string reason =
        refusal ? refusal->reason : deadline.fired() ? "handshake_timeout" : handshakeFailureReason(failure);
    counters_.tlsHandshakeFailures.inc({reason});
    // Raw: the audit encodes what it stores (forLog's escaping is for log lines only).
    audit_.recordAsync(handshakeEvent(remote, reason, refusal ? refusal->detail : failure, refusal));
    if (refusal) {
      spdlog::warn("tls_refused remote={} reason={} detail=\"{}\" subject=\"{}\" issuer=\"{}\" cert_sha256={}", remote,
                   reason, forLog(refusal->detail), forLog(refusal->subjectDn), forLog(refusal->issuerDn),
                   refusal->certSha256);
    } else {
      spdlog::warn("tls_refused remote={} reason={} detail=\"{}\"", remote, reason, forLog(failure));
    }
    return std::nullopt;
  }

  void serve(const std::string& remote, const auth::PeerIdentity& peer) {
    Poco::Net::HTTPServerSession session(socket(), params_);
    // A reply sent once the node is stopping closes its connection, so a connection still open
    // here was promised one more request (or is new): it is served, and its reply closes it.
    // An idle one ends at server.keepAliveTimeout.
    while (session.hasMoreRequests()) {
      const auto started = std::chrono::steady_clock::now();
      // The first bytes are here; the rest of the head has headLimit() to follow.
      HeadDeadlines::Armed deadline(deadlines_, socket().impl()->sockfd(), headLimit());
      HttpCall call;
      call.remoteAddress = remote;
      call.localAddress = local_;
      std::string rawPath = "-";
      try {
        Poco::Net::HTTPServerResponseImpl response(session);
        HttpReply reply;
        std::string organization;
        bool closeAfter = false;
        bool head = false;
        // The response refers to its request until it is sent: keep the request alive until then.
        std::unique_ptr<Poco::Net::HTTPServerRequestImpl> requestHolder;
        try {
          requestHolder = std::make_unique<Poco::Net::HTTPServerRequestImpl>(response, session, params_.get());
          if (deadline.fired()) throw Poco::TimeoutException("request head deadline passed");
          Poco::Net::HTTPServerRequestImpl& request = *requestHolder;
          call.requestId = requestIdFor(request.get("X-Request-Id", ""));
          rawPath = request.getURI().substr(0, request.getURI().find('?'));
          call.method = request.getMethod();
          head = call.method == "HEAD";
          for (const auto& [name, value] : request) call.headers.emplace_back(name, value);
          const bool chunked = request.getChunkedTransferEncoding() || request.has("Transfer-Encoding");
          const std::string& version = request.getVersion();
          if (version != HTTPResponse::HTTP_1_1 && version != HTTPResponse::HTTP_1_0) {
            reply = refusal(505, "not-supported", "Only HTTP/1.0 and HTTP/1.1 are supported.", "http_version");
            closeAfter = true;
          } else if (chunked && request.has("Content-Length")) {
            reply = refusal(400, "invalid", "Conflicting Content-Length and Transfer-Encoding.", "conflicting_length");
            closeAfter = true;
          } else if (chunked || request.getContentLength() > 0) {
            reply = refusal(413, "too-costly", "This node accepts no request bodies.", "request_body");
            closeAfter = true;
            // Read a small body away so that closing does not reset the connection before the reply arrives.
            if (!chunked && request.getContentLength() <= kMaxDrainedBody) {
              // Under the same limit as a head, so a trickled body cannot hold the thread either.
              HeadDeadlines::Armed drainLimit(deadlines_, socket().impl()->sockfd(), headLimit());
              request.stream().ignore(static_cast<std::streamsize>(request.getContentLength()));
            }
          } else {
            Poco::URI uri(request.getURI());
            call.path = uri.getPath();
            for (const auto& kv : uri.getQueryParameters()) call.query.push_back(kv);
            if (!isUtf8Request(request, call)) {
              // Refused before any handler: no handler or query ever sees these bytes; the audit
              // stores the raw path and purpose header encoded (%XX), like every field.
              call.path.clear();
              call.query.clear();
              reply = refusal(400, "invalid", "The request line and header fields must be valid UTF-8.",
                              "invalid_utf8");
              closeAfter = true;
            } else if (auto gone = recheck_.check(standing_, static_cast<std::int64_t>(std::time(nullptr)))) {
              reply = standingRefusal(*gone);
              closeAfter = true;
            } else {
              GateOutcome outcome = gate_.handle(call, peer);
              reply = std::move(outcome.reply);
              organization = std::move(outcome.organization);
            }
          }
          closeAfter = closeAfter || !(params_->getKeepAlive() && request.getKeepAlive() && session.canKeepAlive());
        } catch (const Poco::SyntaxException&) {
          // An unparsable URI inside an otherwise readable request.
          reply = refusal(400, "invalid", "Malformed request URI.", "malformed_uri");
          closeAfter = true;
        }
        if (call.requestId.empty()) call.requestId = newRequestId();
        release(call, rawPath, peer, organization, reply, started);
        // While the node shuts down, every reply closes its connection. Read after the audit
        // commit, which can take long: a reply promising keep-alive is always honoured above.
        closeAfter = closeAfter || stopping_;
        response.setVersion(HTTPResponse::HTTP_1_1);
        response.setKeepAlive(!closeAfter);
        writeReply(response, reply, call.requestId);
        if (head) {
          response.send();
        } else {
          // Head and body through one buffered stream: one TLS record and one send for a small
          // reply, where send() and then the body took two of each.
          response.sendBuffer(reply.body.data(), reply.body.size());
        }
        session.setKeepAlive(!closeAfter);
        if (closeAfter) break;
      } catch (const Poco::Exception& e) {
        // A head still incomplete at its deadline: however the cut read surfaced, it is a 408.
        if (deadline.fired()) {
          refuseProtocol(session, peer, call, refusal(408, "timeout", "The request took too long to arrive.",
                                                      "request_timeout"), started);
        } else if (dynamic_cast<const Poco::Net::NoMessageException*>(&e) != nullptr) {
          // peer closed or idled out between requests
        } else if (dynamic_cast<const Poco::Net::MessageException*>(&e) != nullptr) {
          refuseMalformed(session, peer, call, e.message(), started);
        } else {
          spdlog::debug("connection from {} ended: {}", remote, e.displayText());
        }
        break;
      } catch (const std::exception& e) {
        spdlog::error("connection from {} failed: {}", remote, e.what());
        break;
      }
    }
  }

  static HttpReply refusal(int status, const char* code, const std::string& text, const char* reason) {
    HttpReply reply = operationOutcome(status, code, text);
    reply.refusalReason = reason;
    return reply;
  }

  // The client's certificate no longer stands (expired, revoked, its CRL or OCSP answer out of date).
  HttpReply standingRefusal(const auth::StandingRefusal& gone) {
    counters_.refusals.inc({"certificate", gone.reason});
    HttpReply reply = operationOutcome(403, "forbidden", "The client certificate is no longer accepted by this node.");
    reply.refusalReason = gone.reason;
    reply.internalError = gone.detail;
    return reply;
  }

  // Audits the request and only then lets the reply go: if the entry cannot
  // be committed the caller gets 503 and none of the data.
  void release(const HttpCall& call, const std::string& rawPath, const auth::PeerIdentity& peer,
               const std::string& organization, HttpReply& reply, std::chrono::steady_clock::time_point started) {
    if (!reply.refusalReason.empty() && organization.empty() && call.path.empty()) {
      counters_.refusals.inc({"protocol", reply.refusalReason});
    }
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
    const audit::AuditEvent event = requestEvent(call, rawPath, peer, organization, reply, micros.count());
    // What the handler did on the request's behalf (peer calls) goes in the same group commit.
    std::vector<audit::AuditEvent> entries = std::move(reply.relatedAudit);
    reply.relatedAudit.clear();
    entries.push_back(event);
    auto committed = audit_.recordAll(entries);
    if (!committed) {
      counters_.refusals.inc({"audit", "audit_unavailable"});
      HttpReply unavailable = operationOutcome(503, "transient", "The service is temporarily unavailable.");
      unavailable.refusalReason = "audit_unavailable";
      unavailable.internalError = committed.error().internal;
      unavailable.headers.emplace_back("Retry-After", "1");
      reply = std::move(unavailable);
      // The original event was not committed (and never will be); what the caller got is
      // recorded instead, once the store is back (bounded backlog).
      audit_.recordAsync(requestEvent(call, rawPath, peer, organization, reply, micros.count()));
    }
    if (reply.status == 503 &&
        std::none_of(reply.headers.begin(), reply.headers.end(), [](const auto& h) { return h.first == "Retry-After"; })) {
      reply.headers.emplace_back("Retry-After", "1");  // every 503 is transient here
    }
    counters_.requests.inc({committed ? event.outcome : std::string("error"),
                            organization.empty() ? std::string("none") : organization});
    logRequest(call.requestId, organization, peer, call.method.empty() ? "-" : call.method, rawPath, event.purpose, reply,
               started);
  }

  void refuseMalformed(Poco::Net::HTTPServerSession& session, const auth::PeerIdentity& peer, HttpCall& call,
                       const std::string& why, std::chrono::steady_clock::time_point started) {
    const int status = statusForMalformedRequest(why);
    refuseProtocol(session, peer, call,
                   refusal(status, "invalid",
                           status == 414   ? "Request URI too long."
                           : status == 431 ? "Request header fields too large."
                                           : "Malformed HTTP request.",
                           status == 414 ? "uri_too_long" : status == 431 ? "headers_too_large" : "malformed_request"),
                   started);
  }

  // A request whose head could not be read: audited, answered if the connection still takes it, closed.
  void refuseProtocol(Poco::Net::HTTPServerSession& session, const auth::PeerIdentity& peer, HttpCall& call,
                      HttpReply reply, std::chrono::steady_clock::time_point started) {
    call.requestId = newRequestId();
    release(call, "-", peer, "", reply, started);
    try {
      Poco::Net::HTTPServerResponseImpl response(session);
      response.setVersion(HTTPResponse::HTTP_1_1);
      response.setKeepAlive(false);
      writeReply(response, reply, call.requestId);
      response.send().write(reply.body.data(), static_cast<std::streamsize>(reply.body.size()));
      session.setKeepAlive(false);
    } catch (const Poco::Exception& e) {
      spdlog::debug("cannot send error reply to {}: {}", call.remoteAddress, e.displayText());
    }
  }

  void logRequest(const std::string& requestId, const std::string& organization, const auth::PeerIdentity& peer,
                  const std::string& method, const std::string& rawPath, const std::string& purpose,
                  const HttpReply& reply, std::chrono::steady_clock::time_point started) {
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    // No patient data here: the path without its query and with resource ids replaced (the audit has them).
    // The purpose is the peer's header as received: quoted and escaped like the path.
    spdlog::info("request id={} org={} cert_sha256={} method={} path=\"{}\" status={} duration_ms={:.2f}{}{}{}{}{}",
                 requestId, organization.empty() ? "-" : organization, peer.certSha256, forLog(method, 16),
                 forLog(pathForLog(rawPath)), reply.status, ms,
                 purpose.empty() ? "" : " purpose=\"" + forLog(purpose, 64) + "\"",
                 reply.access.breakGlass ? " break_glass=true" : "", reply.refusalReason.empty() ? "" : " refused=",
                 reply.refusalReason, reply.internalError.empty() ? "" : " error=\"" + forLog(reply.internalError) + "\"");
  }

  std::chrono::seconds headLimit() const { return std::chrono::seconds(params_->getTimeout().totalSeconds()); }

  Poco::Net::HTTPServerParams::Ptr params_;
  const auth::ClientRecheck& recheck_;
  const RequestGate& gate_;
  audit::AuditSink& audit_;
  Counters& counters_;
  const std::atomic<bool>& stopping_;
  HeadDeadlines& deadlines_;
  std::string local_;  // the address this connection arrived on (fallback base URL for links)
  auth::ClientStanding standing_;  // of this connection's client, set by handshake()
};

class GateConnectionFactory : public Poco::Net::TCPServerConnectionFactory {
 public:
  GateConnectionFactory(Poco::Net::HTTPServerParams::Ptr params, const auth::ClientRecheck& recheck,
                        const RequestGate& gate, audit::AuditSink& audit, Counters& counters,
                        const std::atomic<bool>& stopping, HeadDeadlines& deadlines)
      : params_(std::move(params)),
        recheck_(recheck),
        gate_(gate),
        audit_(audit),
        counters_(counters),
        stopping_(stopping),
        deadlines_(deadlines) {}
  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
    return new GateConnection(socket, params_, recheck_, gate_, audit_, counters_, stopping_, deadlines_);
  }

 private:
  Poco::Net::HTTPServerParams::Ptr params_;
  const auth::ClientRecheck& recheck_;
  const RequestGate& gate_;
  audit::AuditSink& audit_;
  Counters& counters_;
  const std::atomic<bool>& stopping_;
  HeadDeadlines& deadlines_;
};

}  // namespace

HttpsServer::HttpsServer(Poco::Net::Context::Ptr context, ListenerOptions options, const auth::ClientRecheck& recheck,
                         const RequestGate& gate, audit::AuditSink& audit, Counters& counters)
    : context_(std::move(context)),
      options_(std::move(options)),
      recheck_(recheck),
      gate_(gate),
      audit_(audit),
      counters_(counters) {}

HttpsServer::~HttpsServer() { stop(0); }

Result<std::uint16_t> HttpsServer::start() {
  try {
    Poco::Net::SecureServerSocket socket(Poco::Net::SocketAddress(options_.host, options_.port), 128, context_);
    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(options_.threads);
    params->setMaxQueued(options_.maxQueued);
    params->setTimeout(Poco::Timespan(options_.timeoutSeconds, 0));
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(Poco::Timespan(options_.keepAliveSeconds, 0));
    params->setMaxKeepAliveRequests(options_.maxKeepAliveRequests);
    params->setServerName("hie-node");
    deadlines_ = std::make_unique<HeadDeadlines>();
    pool_ = std::make_unique<Poco::ThreadPool>(2, options_.threads + 1, 60);
    server_ = std::make_unique<Poco::Net::TCPServer>(
        new GateConnectionFactory(params, recheck_, gate_, audit_, counters_, stopping_, *deadlines_), *pool_, socket,
        params);
    server_->start();
    return socket.address().port();
  } catch (const Poco::Exception& e) {
    return fail(ErrorCode::kUnavailable,
                "cannot listen on " + options_.host + ":" + std::to_string(options_.port) + ": " + e.displayText());
  }
}

void HttpsServer::stop(int graceSeconds) {
  if (!server_) return;
  stopping_ = true;  // connections finish their current request, then close
  server_->stop();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(graceSeconds);
  while (server_->currentConnections() > 0 && std::chrono::steady_clock::now() < deadline) {
    Poco::Thread::sleep(20);
  }
  pool_->joinAll();
  server_.reset();
  pool_.reset();
}

}  // namespace hie::exchange

#include "exchange/http/https_server.h"

#include <chrono>
#include <cstdint>
#include <ctime>
#include <optional>

#include <Poco/Net/Context.h>
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
#include <openssl/err.h>
#include <spdlog/spdlog.h>

#include "audit/audit_sink.h"
#include "auth/identity/certificate_identity.h"
#include "auth/tls/development_ca.h"
#include "auth/tls/client_standing.h"
#include "auth/tls/handshake_verification.h"
#include "common/counters.h"
#include "common/utf8.h"
#include "exchange/fhir/operation_outcome.h"
#include "exchange/http/audit_events.h"
#include "exchange/http/audited_reply.h"
#include "exchange/http/log_scrubbing.h"
#include "exchange/http/request_gate.h"
#include "exchange/http/request_id.h"
#include "exchange/http/wire_failures.h"
#include "exchange/net/poco_ssl_handle.h"
#include "exchange/net/socket_deadlines.h"

namespace hie::exchange {

struct HttpsServer::Listener {
  Poco::Net::Context::Ptr context;
  std::unique_ptr<SocketDeadlines> deadlines;  // outlives the connections: destroyed after pool and server
  std::unique_ptr<Poco::ThreadPool> pool;
  std::unique_ptr<Poco::Net::TCPServer> server;
};

namespace {

using Poco::Net::HTTPResponse;
using Cut = SocketDeadlines::Cut;

constexpr std::streamsize kMaxDrainedBody = 64 * 1024;

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
  // Poco writes header values unchanged: no handler's value may break the header block (CR, LF, NUL,
  // other controls become spaces; RFC 9110 5.5 allows only visible characters, SP and HTAB).
  for (const auto& [name, value] : reply.headers) {
    std::string safe = value;
    for (char& c : safe) {
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) c = ' ';
    }
    response.set(name, safe);
  }
  response.setContentLength(static_cast<std::streamsize>(reply.body.size()));
}

// What every connection shares.
struct Shared {
  Poco::Net::HTTPServerParams::Ptr params;
  const auth::ClientRecheck& recheck;
  const RequestGate& gate;
  audit::AuditSink& audit;
  Counters& counters;
  const std::atomic<bool>& stopping;
  SocketDeadlines& deadlines;
  AuditedReply audited;
};

class GateConnection : public Poco::Net::TCPServerConnection {
 public:
  GateConnection(const Poco::Net::StreamSocket& socket, const Shared& shared)
      : TCPServerConnection(socket), s_(shared) {}

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
  // The whole handshake or request head must arrive within the server timeout; the read is cut at it.
  std::optional<SocketDeadlines::Watch> watchHead(const char* what) {
    auto watch = s_.deadlines.watch(static_cast<int>(socket().impl()->sockfd()),
                                    std::chrono::steady_clock::now() + headLimit(), SocketDeadlines::Shut::kReceive);
    if (!watch) {
      // Unbounded reads are what the deadline exists to prevent: close instead.
      spdlog::error("closing a connection: cannot bound its {}: {}", what, watch.error().internal);
      return std::nullopt;
    }
    return std::move(*watch);
  }

  std::optional<auth::PeerIdentity> handshake(const std::string& remote) {
    auto deadline = watchHead("handshake");
    if (!deadline) return std::nullopt;
    std::string failure;
    const char* reason = nullptr;  // when an exception's type names it
    SSL* ssl = nullptr;            // what the verify and info callbacks recorded is on it
    // Only this handshake's errors may name its failure (the queue is the thread's).
    ERR_clear_error();
    try {
      Poco::Net::SecureStreamSocket tls(socket());
      ssl = sslOf(tls);
      const Poco::Timespan timeout(s_.params->getTimeout());
      tls.setReceiveTimeout(timeout);
      tls.setSendTimeout(timeout);
      tls.completeHandshake();
      auto standing = s_.recheck.takeHandshake(ssl);
      if (tls.sessionWasReused()) s_.counters.tlsSessionsResumed.inc();
      if (!tls.havePeerCertificate()) {
        failure = "peer did not return a certificate";
        reason = "no_certificate";
      } else if (!standing) {
        failure = standing.error().internal;
      } else {
        Poco::Crypto::X509Certificate cert = tls.peerCertificate();
        auto identity = auth::extractIdentity(cert.certificate());
        if (identity) {
          // The chain as presented, leaf first: what verifies the client's signed requests later.
          auto chain = auth::certificateChainPem(cert.certificate(), SSL_get_peer_cert_chain(ssl));
          if (chain) identity->chainPem = std::move(*chain);
          else spdlog::warn("remote={} cannot keep the presented chain: {}", remote, chain.error().internal);
        }
        if (identity && deadline->release() == Cut::kNone) {
          standing_ = std::move(*standing);
          // Its answers are signed with the key of the certificate this handshake presented.
          if (const X509* own = SSL_get_certificate(ssl)) {
            if (auto sha = auth::certificateSha256(own)) localCertSha256_ = std::move(*sha);
          }
          return *identity;
        }
        failure = identity ? "handshake timed out" : identity.error().internal;
      }
    } catch (const Poco::TimeoutException& e) {
      failure = e.displayText();
      reason = "handshake_timeout";
    } catch (const Poco::Exception& e) {
      failure = e.displayText();
    } catch (const std::exception& e) {
      failure = e.what();
    }
    // The socket (and its SSL) lives as long as this connection: the record is still there.
    const auth::VerificationRecord* record = ssl != nullptr ? auth::findVerificationRecord(ssl) : nullptr;
    const auth::HandshakeRefusal* refused = record != nullptr && record->refusal ? &*record->refusal : nullptr;
    const std::string why = refused                             ? refused->reason
                            : deadline->release() != Cut::kNone ? "handshake_timeout"
                            : reason != nullptr                 ? reason
                                                                : handshakeFailureReason(record ? record->handshakeError : 0);
    s_.counters.tlsHandshakeFailures.inc({why});
    // Raw: the audit encodes what it stores (scrubForLog's escaping is for log lines only).
    s_.audit.recordAsync(handshakeEvent(remote, why, refused ? refused->detail : failure, refused));
    if (refused) {
      spdlog::warn("tls_refused remote={} reason={} detail=\"{}\" subject=\"{}\" issuer=\"{}\" cert_sha256={}", remote,
                   why, scrubForLog(refused->detail), scrubForLog(refused->subjectDn), scrubForLog(refused->issuerDn),
                   refused->certSha256);
    } else {
      spdlog::warn("tls_refused remote={} reason={} detail=\"{}\"", remote, why, scrubForLog(failure));
    }
    return std::nullopt;
  }

  void serve(const std::string& remote, const auth::PeerIdentity& peer) {
    Poco::Net::HTTPServerSession session(socket(), s_.params);
    // A reply sent once the node is stopping closes its connection, so a connection still open
    // here was promised one more request (or is new): it is served, and its reply closes it.
    // An idle one ends at server.keepAliveTimeout.
    while (session.hasMoreRequests()) {
      const auto started = std::chrono::steady_clock::now();
      // The first bytes are here; the rest of the head has headLimit() to follow.
      auto deadline = watchHead("request head");
      if (!deadline) break;
      HttpCall call;
      call.remoteAddress = remote;
      call.localAddress = local_;
      std::string rawPath = "-";
      try {
        Poco::Net::HTTPServerResponseImpl response(session);
        HttpReply reply;
        std::string organization;
        RequestSignature signature;
        bool closeAfter = false;
        bool head = false;
        // The response refers to its request until it is sent: keep the request alive until then.
        std::unique_ptr<Poco::Net::HTTPServerRequestImpl> requestHolder;
        try {
          requestHolder = std::make_unique<Poco::Net::HTTPServerRequestImpl>(response, session, s_.params.get());
          if (deadline->release() != Cut::kNone) throw Poco::TimeoutException("request head deadline passed");
          Poco::Net::HTTPServerRequestImpl& request = *requestHolder;
          call.requestId = requestIdFor(request.get("X-Request-Id", ""));
          rawPath = request.getURI().substr(0, request.getURI().find('?'));
          call.target = request.getURI();
          call.method = request.getMethod();
          head = call.method == "HEAD";
          for (const auto& [name, value] : request) call.headers.emplace_back(name, value);
          const bool chunked = request.getChunkedTransferEncoding() || request.has("Transfer-Encoding");
          const std::streamsize length = request.getContentLength();
          // A body only where the gate takes one (POST /witness/add-checkpoint, writes under /fhir),
          // with a Content-Length, and from a client the gate would let use it: what the endpoint
          // takes, when the request brings a body at all.
          const BodyAllowance allowance = (chunked || length > 0)
                                              ? s_.gate.bodyAllowance(call.method,
                                                                      Poco::URI(request.getURI()).getPath(), peer)
                                              : BodyAllowance{};
          // Not from this client: answered without reading a byte of it (the connection closes).
          const bool leaveUnread = allowance.unread;
          if (leaveUnread) {
            closeAfter = true;
            call.bodyUnread = true;
            // A small body sent without waiting for a go-ahead is read away (never parsed), so that
            // closing does not reset the connection before the refusal arrives.
            if (!chunked && length <= kMaxDrainedBody && !request.getExpectContinue()) {
              if (auto drainLimit = watchHead("request body")) request.stream().ignore(length);
            }
          }
          const std::size_t endpointLimit = allowance.limit;
          const std::size_t bodyLimit = chunked ? 0 : endpointLimit;
          const std::string& version = request.getVersion();
          if (version != HTTPResponse::HTTP_1_1 && version != HTTPResponse::HTTP_1_0) {
            reply = refusal(505, "not-supported", "Only HTTP/1.0 and HTTP/1.1 are supported.", "http_version");
            closeAfter = true;
          } else if (chunked && request.has("Content-Length")) {
            reply = refusal(400, "invalid", "Conflicting Content-Length and Transfer-Encoding.", "conflicting_length");
            closeAfter = true;
          } else if (bodyLimit > 0 && static_cast<std::size_t>(length) > bodyLimit) {
            reply = refusal(413, "too-costly", "The request body is larger than this endpoint accepts.",
                            "request_body_too_large");
            closeAfter = true;
          } else if (bodyLimit > 0 && !readBody(request, response, length, call.body)) {
            // Like a head: the whole body must arrive within server.timeout.
            reply = refusal(408, "timeout", "The request body took too long to arrive.", "request_timeout");
            closeAfter = true;
          } else if (chunked && endpointLimit > 0 && !request.has("Content-Length")) {
            // A body this endpoint takes, but of unknown length: the node reads whole bodies of a known size.
            reply = refusal(411, "invalid", "This endpoint needs the body's Content-Length (no chunked encoding).",
                            "length_required");
            closeAfter = true;
          } else if (!leaveUnread && bodyLimit == 0 && (chunked || length > 0)) {
            reply = refusal(413, "too-costly", "This node accepts no request bodies.", "request_body");
            closeAfter = true;
            // Read a small body away so that closing does not reset the connection before the reply arrives.
            if (!chunked && request.getContentLength() <= kMaxDrainedBody) {
              // Under the same limit as a head, so a trickled body cannot hold the thread either.
              if (auto drainLimit = watchHead("request body")) {
                request.stream().ignore(static_cast<std::streamsize>(request.getContentLength()));
              }
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
            } else if (auto gone = s_.recheck.check(standing_, static_cast<std::int64_t>(std::time(nullptr)))) {
              reply = standingRefusal(*gone);
              closeAfter = true;
            } else {
              GateOutcome outcome = s_.gate.handle(call, peer);
              reply = std::move(outcome.reply);
              organization = std::move(outcome.organization);
              signature = std::move(outcome.signature);
              call.authorizedPurpose = std::move(outcome.authorizedPurpose);  // for the audit entry
              call.tokenClientId = std::move(outcome.tokenClientId);
            }
          }
          closeAfter = closeAfter || !(s_.params->getKeepAlive() && request.getKeepAlive() && session.canKeepAlive());
        } catch (const Poco::SyntaxException&) {
          // An unparsable URI inside an otherwise readable request.
          reply = refusal(400, "invalid", "Malformed request URI.", "malformed_uri");
          closeAfter = true;
        }
        if (call.requestId.empty()) call.requestId = newRequestId();
        s_.audited.release(ServedRequest{call, rawPath, peer, organization, started, std::move(signature), localCertSha256_}, reply);
        // While the node shuts down, every reply closes its connection. Read after the audit
        // commit, which can take long: a reply promising keep-alive is always honoured above.
        closeAfter = closeAfter || s_.stopping;
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
        if (deadline->release() != Cut::kNone) {
          refuseProtocol(session, peer, call,
                         refusal(408, "timeout", "The request took too long to arrive.", "request_timeout"), started);
        } else if (dynamic_cast<const Poco::Net::NoMessageException*>(&e) != nullptr) {
          // peer closed or idled out between requests
        } else if (dynamic_cast<const Poco::Net::MessageException*>(&e) != nullptr) {
          const MalformedRequest malformed = classifyMalformedRequest(e.message());
          refuseProtocol(session, peer, call, refusal(malformed.status, "invalid", malformed.text, malformed.reason),
                         started);
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

  // Reads a body of exactly length bytes, which must arrive within the server timeout like a head.
  bool readBody(Poco::Net::HTTPServerRequestImpl& request, Poco::Net::HTTPServerResponseImpl& response,
                std::streamsize length, std::string& out) {
    auto limit = watchHead("request body");
    if (!limit) return false;
    // A client that waits for a go-ahead before its body (curl does for large ones) gets it
    // only here, once the head was accepted and the size is within the endpoint's limit.
    if (request.getExpectContinue()) {
      response.setVersion(HTTPResponse::HTTP_1_1);
      response.sendContinue();
    }
    out.assign(static_cast<std::size_t>(length), '\0');
    bool whole = false;
    try {
      request.stream().read(&out[0], length);
      whole = request.stream().gcount() == length;
    } catch (const Poco::Exception&) {
      whole = false;
    }
    if (limit->release() != Cut::kNone || !whole) {
      out.clear();
      return false;
    }
    return true;
  }

  // The client's certificate no longer stands (expired, revoked, its CRL or OCSP answer out of date).
  HttpReply standingRefusal(const auth::StandingRefusal& gone) {
    s_.counters.refusals.inc({"certificate", gone.reason});
    HttpReply reply = operationOutcome(403, "forbidden", "The client certificate is no longer accepted by this node.");
    reply.refusalReason = gone.reason;
    reply.internalError = gone.detail;
    return reply;
  }

  // A request whose head could not be read: audited, answered if the connection still takes it, closed.
  void refuseProtocol(Poco::Net::HTTPServerSession& session, const auth::PeerIdentity& peer, HttpCall& call,
                      HttpReply reply, std::chrono::steady_clock::time_point started) {
    call.requestId = newRequestId();
    s_.audited.release(ServedRequest{call, "-", peer, "", started, RequestSignature{}, localCertSha256_}, reply);
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

  std::chrono::seconds headLimit() const { return std::chrono::seconds(s_.params->getTimeout().totalSeconds()); }

  Shared s_;
  std::string local_;              // the address this connection arrived on (fallback base URL for links)
  auth::ClientStanding standing_;  // of this connection's client, set by handshake()
  std::string localCertSha256_ = "-";  // the certificate this node presented in the handshake (its key signs
                                       // the answers; "-" = unknown: answers go unsigned)
};

class GateConnectionFactory : public Poco::Net::TCPServerConnectionFactory {
 public:
  explicit GateConnectionFactory(Shared shared) : shared_(std::move(shared)) {}
  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
    return new GateConnection(socket, shared_);
  }

 private:
  Shared shared_;
};

}  // namespace

HttpsServer::HttpsServer(const Poco::Net::Context::Ptr& context, ListenerOptions options,
                         const auth::ClientRecheck& recheck, const RequestGate& gate, audit::AuditSink& audit,
                         Counters& counters, const ReplySigner* signer)
    : options_(std::move(options)),
      recheck_(recheck),
      gate_(gate),
      audit_(audit),
      counters_(counters),
      signer_(signer),
      listener_(std::make_unique<Listener>()) {
  listener_->context = context;
}

HttpsServer::~HttpsServer() { stop(0); }

Result<std::uint16_t> HttpsServer::start() {
  Listener& l = *listener_;
  try {
    Poco::Net::SecureServerSocket socket(Poco::Net::SocketAddress(options_.host, options_.port), 128, l.context);
    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(options_.threads);
    params->setMaxQueued(options_.maxQueued);
    params->setTimeout(Poco::Timespan(options_.timeoutSeconds, 0));
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(Poco::Timespan(options_.keepAliveSeconds, 0));
    params->setMaxKeepAliveRequests(options_.maxKeepAliveRequests);
    params->setServerName("hie-node");
    l.deadlines = std::make_unique<SocketDeadlines>();
    l.pool = std::make_unique<Poco::ThreadPool>(2, options_.threads + 1, 60);
    l.server = std::make_unique<Poco::Net::TCPServer>(
        new GateConnectionFactory(Shared{params, recheck_, gate_, audit_, counters_, stopping_, *l.deadlines,
                                         AuditedReply(audit_, counters_, signer_)}),
        *l.pool, socket, params);
    l.server->start();
    return socket.address().port();
  } catch (const Poco::Exception& e) {
    return fail(ErrorCode::kUnavailable,
                "cannot listen on " + options_.host + ":" + std::to_string(options_.port) + ": " + e.displayText());
  }
}

void HttpsServer::stop(int graceSeconds) {
  Listener& l = *listener_;
  if (!l.server) return;
  stopping_ = true;  // connections finish their current request, then close
  l.server->stop();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(graceSeconds);
  while (l.server->currentConnections() > 0 && std::chrono::steady_clock::now() < deadline) {
    Poco::Thread::sleep(20);
  }
  l.pool->joinAll();
  l.server.reset();
  l.pool.reset();
}

}  // namespace hie::exchange

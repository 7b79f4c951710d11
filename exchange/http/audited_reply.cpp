#include "exchange/http/audited_reply.h"

#include <algorithm>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "exchange/fhir/operation_outcome.h"
#include "exchange/http/audit_events.h"
#include "exchange/http/log_scrubbing.h"

namespace hie::exchange {
namespace {

void logRequest(const ServedRequest& request, const std::string& purpose, const HttpReply& reply) {
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - request.started).count();
  const std::string& method = request.call.method.empty() ? std::string("-") : request.call.method;
  // No patient data here: the path without its query and with resource ids replaced (the audit has them).
  // The purpose is the peer's header as received: quoted and escaped like the path.
  // A UDAP access token is never logged (log_scrubbing.h): only the client_id it was issued to.
  spdlog::info("request id={} org={} cert_sha256={} method={} path=\"{}\" status={} duration_ms={:.2f}{}{}{}{}{}{}",
               request.call.requestId, request.organization.empty() ? "-" : request.organization,
               request.peer.certSha256, scrubForLog(method, 16), scrubForLog(pathForLog(request.rawPath)),
               reply.status, ms, purpose.empty() ? "" : " purpose=\"" + scrubForLog(purpose, 64) + "\"",
               request.call.tokenClientId.empty() ? "" : " client_id=" + scrubForLog(request.call.tokenClientId, 64),
               reply.access.breakGlass ? " break_glass=true" : "", reply.refusalReason.empty() ? "" : " refused=",
               reply.refusalReason,
               reply.internalError.empty() ? "" : " error=\"" + scrubForLog(reply.internalError) + "\"");
}

}  // namespace

AuditedReply::AuditedReply(audit::AuditSink& audit, Counters& counters, const ReplySigner* signer)
    : audit_(audit), counters_(counters), signer_(signer) {}

std::optional<auth::SignatureEvidence> AuditedReply::sign(const ServedRequest& request, HttpReply& reply) const {
  if (signer_ == nullptr) return std::nullopt;
  const auto& evidence = request.signature.evidence;
  return signer_->sign(request.localCertSha256, request.call, reply, evidence ? &*evidence : nullptr);
}

void AuditedReply::replaceWith503(const ServedRequest& request, HttpReply& reply, const std::string& reason,
                                  const std::string& internal, const AccessFacts& access, std::int64_t micros) const {
  counters_.refusals.inc({"audit", reason});
  reply = refusal(503, "transient", "The service is temporarily unavailable.", reason);
  reply.internalError = internal;
  reply.headers.emplace_back("Retry-After", "1");
  reply.access = access;
  const auto answer = sign(request, reply);
  audit::AuditEvent replaced =
      requestEvent(request.call, request.rawPath, request.peer, request.organization, reply, micros);
  addSignatureEvidence(replaced, request.signature, answer ? &*answer : nullptr);
  audit_.recordAsync(std::move(replaced));
}

void AuditedReply::release(const ServedRequest& request, HttpReply& reply) const {
  const HttpCall& call = request.call;
  if (!reply.refusalReason.empty() && request.organization.empty() && call.path.empty()) {
    counters_.refusals.inc({"protocol", reply.refusalReason});
  }
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - request.started);
  if (reply.status == 503 &&
      std::none_of(reply.headers.begin(), reply.headers.end(), [](const auto& h) { return h.first == "Retry-After"; })) {
    reply.headers.emplace_back("Retry-After", "1");  // every 503 is transient here
  }
  // Signed as it will be sent; the entry holds the answer's signature, so it is made before the commit.
  const auto answer = sign(request, reply);
  audit::AuditEvent event =
      requestEvent(call, request.rawPath, request.peer, request.organization, reply, micros.count());
  addSignatureEvidence(event, request.signature, answer ? &*answer : nullptr);
  // What the handler did on the request's behalf (peer calls) goes in the same group commit.
  std::vector<audit::AuditEvent> entries = std::move(reply.relatedAudit);
  reply.relatedAudit.clear();
  entries.push_back(event);
  auto committed = audit_.recordAll(entries);
  // A write stands only with its entry: committed right after it, or dropped (undone) without it.
  std::shared_ptr<DeferredCommit> deferred = std::move(reply.deferred);
  reply.deferred.reset();
  bool served = static_cast<bool>(committed);
  if (!committed) {
    deferred.reset();
    // The original event was not committed (and never will be); what the caller got is recorded
    // instead, once the store is back (bounded backlog).
    replaceWith503(request, reply, "audit_unavailable", committed.error().internal, AccessFacts{}, micros.count());
  } else if (deferred) {
    if (auto done = deferred->commit(); !done) {
      // The entry says what the write did, but its commit failed or its outcome is unknown: the
      // caller gets 503, and a second entry for the request id says so (the first one stays), with
      // what the write tried to change.
      served = false;
      const AccessFacts tried = reply.access;
      replaceWith503(request, reply, "write_not_committed", done.error().internal, tried, micros.count());
    }
  }
  counters_.requests.inc({served ? event.outcome : std::string("error"),
                          request.organization.empty() ? std::string("none") : request.organization});
  logRequest(request, event.purpose, reply);
}

}  // namespace hie::exchange

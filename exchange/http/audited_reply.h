// The last step of the request path: a reply leaves only after its audit
// entry is committed. If the entry cannot be committed, the caller gets a
// 503 OperationOutcome and nothing of the reply (fail closed). No sockets:
// the listener sends what release() leaves in the reply.
#pragma once

#include <chrono>
#include <string>

#include "audit/audit_sink.h"
#include "auth/identity/peer_identity.h"
#include "common/counters.h"
#include "exchange/http/http_call.h"
#include "exchange/http/reply_signer.h"
#include "exchange/http/request_signature.h"

namespace hie::exchange {

// One request as the listener saw it, besides its HttpCall.
struct ServedRequest {
  const HttpCall& call;
  std::string rawPath;       // the request target without its query, as received ("-" when unreadable)
  const auth::PeerIdentity& peer;
  std::string organization;  // the admitted organization, "" when refused before admission
  std::chrono::steady_clock::time_point started;
  RequestSignature signature;  // the gate's check of the request's signature (check "" when it got no check)
  std::string localCertSha256;  // the certificate this node presented in the connection's handshake ("" = unknown)
};

class AuditedReply {
 public:
  // All must outlive this. signer: null = answers go unsigned (signatures.sign = false).
  AuditedReply(audit::AuditSink& audit, Counters& counters, const ReplySigner* signer = nullptr);

  // Commits the request's audit entry together with reply.relatedAudit (one
  // group commit; relatedAudit is emptied). Committed: reply unchanged.
  // Not committed: reply becomes a 503 with Retry-After, and the entry of
  // that 503 is queued (AuditSink::recordAsync). A write's database transaction (reply.deferred)
  // is committed only after the entry, and undone when the entry is not committed; if its own
  // commit then fails, the reply becomes a 503 too and a second entry (write_not_committed) for
  // the request id is queued. Every 503 gets Retry-After.
  // Counts the request and writes its log line (no patient data).
  // With a signer, the final reply (the 503 too) is signed before its entry is built, and the entry
  // holds the answer's signature with the request's.
  void release(const ServedRequest& request, HttpReply& reply) const;

 private:
  std::optional<auth::SignatureEvidence> sign(const ServedRequest& request, HttpReply& reply) const;
  // reply becomes a 503 (refusal reason, Retry-After) whose own entry, with access as its facts, is
  // queued (AuditSink::recordAsync); counted as an audit refusal.
  void replaceWith503(const ServedRequest& request, HttpReply& reply, const std::string& reason,
                      const std::string& internal, const AccessFacts& access, std::int64_t micros) const;

  audit::AuditSink& audit_;
  Counters& counters_;
  const ReplySigner* signer_;
};

}  // namespace hie::exchange

// Turning what happened on the wire into audit events: one per request that
// reached HTTP, one per refused handshake. The outcome rule lives here only.
#pragma once

#include <string>

#include "audit/audit_event.h"
#include "auth/identity/peer_identity.h"
#include "auth/tls/handshake_verification.h"
#include "exchange/http/http_call.h"
#include "exchange/http/request_signature.h"

namespace hie::exchange {

// success for 2xx/3xx; denied for 401/403 and for answers shaped by consent
// (refusal reasons patient_*); error for everything else, with the reason.
std::string auditOutcome(const HttpReply& reply);

audit::AuditEvent requestEvent(const HttpCall& call, const std::string& rawPath, const auth::PeerIdentity& peer,
                               const std::string& organization, const HttpReply& reply, long long latencyMicros);

// The signature evidence of a served request: the request's verified signature and its check, and
// this node's signed answer (null when the answer went unsigned).
void addSignatureEvidence(audit::AuditEvent& event, const RequestSignature& request,
                          const auth::SignatureEvidence* answer);

audit::AuditEvent handshakeEvent(const std::string& remoteAddress, const std::string& reason,
                                 const std::string& detail, const auth::HandshakeRefusal* refusal);

}  // namespace hie::exchange

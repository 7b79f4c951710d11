#include "exchange/http/audit_events.h"

namespace hie::exchange {

std::string auditOutcome(const HttpReply& reply) {
  if (reply.status >= 200 && reply.status < 400 && reply.refusalReason.empty()) return "success";
  if (reply.status == 401 || reply.status == 403 || reply.refusalReason.compare(0, 8, "patient_") == 0) {
    return "denied";
  }
  if (reply.status >= 200 && reply.status < 400) return "success";
  return "error";
}

audit::AuditEvent requestEvent(const HttpCall& call, const std::string& rawPath, const auth::PeerIdentity& peer,
                               const std::string& organization, const HttpReply& reply, long long latencyMicros) {
  audit::AuditEvent e;
  e.eventType = "rest";
  e.action = reply.access.action.empty() ? "rest" : reply.access.action;
  e.outcome = auditOutcome(reply);
  e.outcomeReason = e.outcome == "success" ? std::string() : (reply.refusalReason.empty()
                                                                   ? "http_" + std::to_string(reply.status)
                                                                   : reply.refusalReason);
  e.organization = organization;
  e.certSha256 = peer.certSha256;
  e.subjectDn = peer.subjectDn;
  e.issuerDn = peer.issuerDn;
  e.remoteAddress = call.remoteAddress;
  e.method = call.method.empty() ? "-" : call.method;
  e.path = rawPath;
  e.resourceType = reply.access.resourceType;
  e.resourceId = reply.access.resourceId;
  e.patient = reply.access.patientId.empty() ? "" : "Patient/" + reply.access.patientId;
  e.patientQuery = reply.access.patientQuery;
  e.entities = reply.access.entities;
  // As received, whatever the handler made of it: the audit encodes it (docs/audit-format.md).
  e.purpose = call.headerLines("X-Purpose-Of-Use");
  // With an accepted access token, the token's purpose is the request's (the gate refused any other).
  if (!call.authorizedPurpose.empty()) e.purpose = call.authorizedPurpose;
  // A token request states its purpose in its client assertion (hl7-b2b), not in a header.
  if (e.purpose.empty()) e.purpose = reply.access.purpose;
  // Every request arrives over mutual TLS; a UDAP client is either the token's or the one an
  // /oauth/* request registered or asked for (its handler's AccessFacts).
  e.authentication = call.tokenClientId.empty() ? "mtls" : "mtls+udap";
  e.clientId = call.tokenClientId.empty() ? reply.access.clientId : call.tokenClientId;
  e.breakGlass = reply.access.breakGlass;
  e.httpStatus = reply.status;
  e.requestId = call.requestId;
  e.latencyMicros = latencyMicros;
  e.resultCount = reply.access.resultCount;
  return e;
}

void addSignatureEvidence(audit::AuditEvent& event, const RequestSignature& request,
                          const auth::SignatureEvidence* answer) {
  event.signatureCheck = request.check;
  if (request.evidence) {
    event.requestSignatureBase = request.evidence->base;
    event.requestSignature = request.evidence->signature;
  }
  if (answer != nullptr) {
    event.responseSignatureBase = answer->base;
    event.responseSignature = answer->signature;
  }
}

audit::AuditEvent handshakeEvent(const std::string& remoteAddress, const std::string& reason,
                                 const std::string& detail, const auth::HandshakeRefusal* refusal) {
  audit::AuditEvent e;
  e.eventType = "security-alert";
  e.action = "node-authentication";
  e.outcome = "denied";
  e.outcomeReason = reason + (detail.empty() ? "" : ": " + detail);
  e.remoteAddress = remoteAddress;
  if (refusal != nullptr) {
    e.certSha256 = refusal->certSha256;
    e.subjectDn = refusal->subjectDn;
    e.issuerDn = refusal->issuerDn;
  }
  return e;
}

}  // namespace hie::exchange

// One audit entry's content, before it is sealed into a chain. Plain data, raw
// as received: the audit encodes strings itself (printableAscii), once, when it
// builds the canonical entry and the query columns.
#pragma once

#include <cstdint>
#include <string>

namespace hie::audit {

struct AuditEvent {
  std::string time;           // RFC 3339 UTC with milliseconds, set by the writer if empty
  std::string eventType;      // "rest" or "security-alert"
  std::string action;         // read | search | query | capabilities | audit-read | node-authentication | peer-call | witness | witness-submit
  std::string outcome;        // success | denied | error
  std::string outcomeReason;  // why, when not success ("" otherwise)
  std::string organization;   // identifier of the admitted organization ("" when none)
  std::string certSha256;     // presented certificate
  std::string subjectDn;
  std::string issuerDn;
  std::string remoteAddress;
  std::string method;
  std::string path;           // request target as received, up to the first '?' (not percent-decoded)
  std::string resourceType;
  std::string resourceId;
  std::string patient;        // Patient/ID when known
  std::string patientQuery;   // the identifier searched for (SYSTEM|VALUE), when any
  std::string entities;       // Type/id of every resource disclosed, comma-separated
  std::string purpose;        // X-Purpose-Of-Use as received (several field lines joined by ", ")
  bool breakGlass = false;
  int httpStatus = 0;
  std::string requestId;
  std::string causedBy;       // request id of the local request that caused this one ("" when none)
  std::string peerOrganization;  // for outbound calls
  std::int64_t latencyMicros = 0;
  std::int64_t resultCount = 0;
  // Signed requests and answers (docs/api.md, "Signed requests and answers"). Served request: the
  // request's verified signature and this node's signed answer; peer call: the signature this node
  // sent and the peer's answer signature. Raw signature bytes; bases exactly as signed.
  std::string requestSignatureBase;
  std::string requestSignature;
  std::string responseSignatureBase;
  std::string responseSignature;
  // Served request: verified | absent | off | the refusal reason; peer call: the check of the answer's
  // signature (verified | absent | the refusal reason), "" when no answer came.
  std::string signatureCheck;
  // How the caller authenticated (docs/udap.md): "mtls" (its TLS client certificate alone), "mtls+udap"
  // (and a UDAP access token); peer call: how this node authenticated to the peer; "" for a handshake.
  std::string authentication;
  // The UDAP client_id: the token's client on a request with a token, the client registered or
  // asking at /oauth/*, this node's client_id at the peer on a peer call; "" when none.
  std::string clientId;
};

// The longest string an entry stores per field after encoding (entities: kMaxEntitiesLength).
constexpr std::size_t kMaxTextLength = 2048;
constexpr std::size_t kMaxEntitiesLength = 16384;
// Signature bases after encoding; the node refuses a signed request whose base exceeds 8192 bytes,
// so a stored base is never cut (8192 bytes encode to at most 24576).
constexpr std::size_t kMaxSignatureTextLength = 32768;

// How an entry stores every string (docs/audit-format.md, "Strings"): bytes 0x20-0x7E
// except '%' stay as they are; every other byte, and '%', becomes '%' and two
// upper-case hex digits. A result longer than maxLength is cut to its longest prefix
// of at most maxLength characters that does not split a %XX. Not idempotent: apply once.
std::string printableAscii(const std::string& text, std::size_t maxLength = kMaxTextLength);

}  // namespace hie::audit

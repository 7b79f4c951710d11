// One audit entry's content, before it is sealed into a chain. Plain data;
// every field is canonicalized as a string, integer or boolean.
#pragma once

#include <cstdint>
#include <string>

namespace hie::audit {

struct AuditEvent {
  std::string time;           // RFC 3339 UTC with milliseconds, set by the writer if empty
  std::string eventType;      // "rest" or "security-alert"
  std::string action;         // read | search | query | capabilities | audit-read | node-authentication | peer-call
  std::string outcome;        // success | denied | error
  std::string outcomeReason;  // why, when not success ("" otherwise)
  std::string organization;   // identifier of the admitted organization ("" when none)
  std::string certSha256;     // presented certificate
  std::string subjectDn;
  std::string issuerDn;
  std::string remoteAddress;
  std::string method;
  std::string path;           // without the query
  std::string resourceType;
  std::string resourceId;
  std::string patient;        // Patient/ID when known
  std::string patientQuery;   // the identifier searched for (SYSTEM|VALUE), when any
  std::string entities;       // Type/id of every resource disclosed, comma-separated
  std::string purpose;        // X-Purpose-Of-Use
  bool breakGlass = false;
  int httpStatus = 0;
  std::string requestId;
  std::string causedBy;       // request id of the local request that caused this one ("" when none)
  std::string peerOrganization;  // for outbound calls
  std::int64_t latencyMicros = 0;
  std::int64_t resultCount = 0;
};

// Replaces every byte outside printable ASCII with %XX (and '%' itself), so
// canonical entries are plain ASCII whatever a peer sent.
std::string printableAscii(const std::string& text, std::size_t maxLength = 2048);

}  // namespace hie::audit

// Renders a stored audit entry of either format (a v1 chain entry, a v2 log
// leaf) as a FHIR R4 AuditEvent following the IHE Basic Audit Log Patterns
// (BALP): a successful read, search, create, update or delete claims (in
// meta.profile) and follows BALP's RESTful profile for it; a disclosure
// rendered for the accounting of disclosures follows PrivacyDisclosure.Source;
// a refused handshake follows DICOM PS3.15 A.5.3.11 (Security Alert), for which
// BALP defines no profile. docs/api.md ("The AuditEvent resources") has the table.
#pragma once

#include <string>

#include "audit/audit_query.h"
#include "common/result.h"

namespace hie::audit {

// How an entry is shown: as an event of the audit trail (/audit/AuditEvent, audit export), or
// as a disclosure of patient data by this node (/audit/disclosures).
enum class FhirAuditView { kTrail, kDisclosure };

// From the entry's signed text only; its place (chain and seq, or origin and index) and hash
// name it. Deterministic: the same entry gives the same bytes. kInvalidInput when the text is
// not an entry.
Result<std::string> fhirAuditEvent(const TrailEntry& entry);
Result<std::string> fhirAuditEvent(const TrailEntry& entry, FhirAuditView view);

}  // namespace hie::audit

// Renders a stored audit entry of either format (a v1 chain entry, a v2 log
// leaf) as a FHIR R4 AuditEvent following IHE BALP conventions (RESTful
// read/search, security alert for node authentication).
#pragma once

#include <string>

#include "audit/audit_query.h"
#include "common/result.h"

namespace hie::audit {

// From the entry's signed text; its place (chain and seq, or origin and index) and hash name it.
// kInvalidInput when the text is not an entry.
Result<std::string> fhirAuditEvent(const TrailEntry& entry);

}  // namespace hie::audit

// Renders a stored audit entry as a FHIR R4 AuditEvent following IHE BALP
// conventions (RESTful read/search, security alert for node authentication).
#pragma once

#include <string>

#include "audit/audit_chain.h"
#include "common/result.h"

namespace hie::audit {

// From the entry's canonical JSON; kInvalidInput when it is not one.
Result<std::string> fhirAuditEvent(const SealedEntry& entry);

}  // namespace hie::audit

// audit evidence REQUEST_ID [--out DIR]: the evidence bundle of one signed request
// (docs/audit-format.md, "Evidence bundles"). Dispatched from runAudit (audit_command.cpp).
#pragma once

#include <string>

#include "app/cli.h"
#include "app/config.h"

namespace hie::app {

OptionSpec auditEvidenceOptions();
int runAuditEvidence(const ParsedArgs& args, const ConfigSource& config, const std::string& uri);

}  // namespace hie::app

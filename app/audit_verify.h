// The checks of `hie-node audit verify` as a reusable step: every v1 chain and every v2 log in the
// database (and kept checkpoint files) verified, the result a summary that `audit verify` prints
// and `audit report` renders. Defined in audit_command.cpp.
#pragma once

#include <string>

#include "app/cli.h"
#include "app/config.h"
#include "audit/audit_report.h"
#include "common/result.h"

namespace hie::app {

// --checkpoint FILE... --public-key FILE --witnesses K --witness-key VKEY... (audit verify, audit report).
void addVerifyOptions(OptionSpec& spec);

// Runs every check. The summary holds the problems found (none: verified); an Error (its internal
// message is for the operator) when the checks could not run: kInvalidInput for a bad option
// (a usage error), else a key, a checkpoint file or the database that cannot be read.
Result<audit::VerificationSummary> verifyAuditTrail(const ParsedArgs& args, const ConfigSource& config,
                                                    const std::string& uri);

}  // namespace hie::app

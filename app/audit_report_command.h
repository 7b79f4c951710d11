// audit report --html FILE [--from T] [--to T] [--patient ID]: the audit report for people, one
// self-contained HTML file (docs/operations.md, "Audit report"). Dispatched from runAudit
// (audit_command.cpp).
#pragma once

#include <string>

#include "app/cli.h"
#include "app/config.h"

namespace hie::app {

OptionSpec auditReportOptions();
// 0 when the options are well-formed, else the usage error's exit status (2), said on stderr.
int checkAuditReportUsage(const ParsedArgs& args);
// 0 when written and the trail verified; 1 when it could not be written, or when it was written
// but verification found problems (the page says so at its top); 2 for a usage error (no file).
int runAuditReport(const ParsedArgs& args, const ConfigSource& config, const std::string& uri);

}  // namespace hie::app

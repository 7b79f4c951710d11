// audit export --format jsonl|jsonl-v1, audit checkpoint, audit consistency: what an auditor takes
// away from the node (docs/audit-format.md). Dispatched from runAudit (audit_command.cpp).
#pragma once

#include <string>

#include "app/cli.h"
#include "app/config.h"

namespace hie::app {

OptionSpec auditExportOptions();
OptionSpec auditCheckpointOptions();
OptionSpec auditConsistencyOptions();

// --format jsonl (the transparency log, format v2) or jsonl-v1 (the v1 chains, unchanged).
int runAuditExportJsonl(const ParsedArgs& args, const ConfigSource& config, const std::string& uri);
// The latest checkpoint of each log as a signed note with its cosignatures; --v1: the v1 chains' checkpoints.
int runAuditCheckpoint(const ParsedArgs& args, const ConfigSource& config, const std::string& uri);
// A consistency proof between two checkpoints of a log.
int runAuditConsistency(const ParsedArgs& args, const ConfigSource& config, const std::string& uri);

}  // namespace hie::app

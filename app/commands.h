// The subcommands. Each returns the process exit status: 0 ok, 1 runtime
// failure, 2 usage error; errors are one sentence on stderr.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace hie::app {

using Args = std::vector<std::string>;

int runServe(const Args& args);
int runMigrate(const Args& args);
int runOrg(const Args& args);
int runGrant(const Args& args);
int runConsent(const Args& args);
int runRecords(const Args& args);
int runAudit(const Args& args);
int runAuditKeys(const Args& args);  // audit keys (app/audit_keys_command.cpp)
int runPeer(const Args& args);
int runFetch(const Args& args);
int runPki(const Args& args);
int runUdap(const Args& args);  // udap clients list|cancel (app/udap_command.cpp)

// Shared helpers for commands.
int usageError(const std::string& message);
int runtimeError(const std::string& message);
// kInvalidInput -> usage error (2); anything else -> runtime failure (1), with
// the internal detail added when it says more (the operator is local and trusted).
int commandError(const Error& error);

}  // namespace hie::app

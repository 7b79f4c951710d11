// Opening PostgreSQL connections; libpqxx exceptions stop here.
#pragma once

#include <memory>
#include <string>

#include <pqxx/connection>

#include "common/result.h"

namespace hie::db {

// kUnavailable when the server cannot be reached; the message never contains a password.
// Network timeouts are added unless the URI sets them (see withNetworkTimeouts).
Result<std::unique_ptr<pqxx::connection>> connect(const std::string& uri);

// uri plus connect_timeout=5, TCP keepalives (10 s idle, 5 s interval, 3 probes) and
// tcp_user_timeout=15000, each only where uri does not set it; URI or keyword form.
std::string withNetworkTimeouts(const std::string& uri);

// The URI with any password replaced by "***", for messages.
std::string redactUri(const std::string& uri);

}  // namespace hie::db

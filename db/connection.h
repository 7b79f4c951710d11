// Opening PostgreSQL connections; libpqxx exceptions stop here.
#pragma once

#include <memory>
#include <string>

#include <pqxx/connection>

#include "common/result.h"

namespace hie::db {

// kUnavailable when the server cannot be reached; the message never contains a password.
Result<std::unique_ptr<pqxx::connection>> connect(const std::string& uri);

// The URI with any password replaced by "***", for messages.
std::string redactUri(const std::string& uri);

}  // namespace hie::db

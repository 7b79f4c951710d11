// Schema migrations: numbered, forward-only, each applied in its own
// transaction and recorded in schema_migrations with a checksum.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/result.h"

namespace pqxx {
class connection_base;
}

namespace hie::db {

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

// The migrations compiled into this binary, in version order.
const std::vector<Migration>& embeddedMigrations();

// Checks that versions are 1..N without gaps or duplicates.
Result<bool> validateSequence(const std::vector<Migration>& migrations);

// Applies every migration not yet recorded, in order; returns how many ran.
// Concurrent runners serialize on an advisory lock. A recorded migration whose
// checksum differs from the binary's is an error and nothing more is applied.
Result<int> applyMigrations(pqxx::connection_base& conn, const std::vector<Migration>& migrations,
                            const std::function<void(const Migration&)>& onApplied);

// kUnavailable with a sentence saying what to do when the database schema is
// missing, behind, ahead of, or different from the binary's migrations.
Result<int> checkSchema(pqxx::connection_base& conn, const std::vector<Migration>& migrations);

}  // namespace hie::db

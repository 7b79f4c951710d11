#include "db/migrations.h"

#include <map>

#include <pqxx/pqxx>

#include "common/digest.h"

namespace hie::db {
namespace {

// Any fixed number: every migrate run in the cluster serializes on it.
constexpr long long kMigrationLockKey = 0x6869656d6967;  // "hiemig"

struct Applied {
  std::string name;
  std::string checksum;
};

// version -> applied migration; empty when the table does not exist yet.
std::map<int, Applied> readApplied(pqxx::transaction_base& tx, bool& tableExists) {
  std::map<int, Applied> applied;
  tableExists = tx.exec1("SELECT to_regclass('public.schema_migrations') IS NOT NULL")[0].as<bool>();
  if (!tableExists) return applied;
  for (const auto& row : tx.exec("SELECT version, name, checksum FROM schema_migrations ORDER BY version")) {
    applied[row[0].as<int>()] = Applied{row[1].as<std::string>(), row[2].as<std::string>()};
  }
  return applied;
}

std::string label(const Migration& m) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d", m.version);
  return std::string(buf) + "_" + m.name;
}

}  // namespace

Result<bool> validateSequence(const std::vector<Migration>& migrations) {
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return fail(ErrorCode::kInternal, "migration " + label(migrations[i]) + " is out of sequence: expected version " +
                                            std::to_string(i + 1));
    }
  }
  return true;
}

Result<int> applyMigrations(pqxx::connection_base& conn, const std::vector<Migration>& migrations,
                            const std::function<void(const Migration&)>& onApplied) {
  if (auto ok = validateSequence(migrations); !ok) return tl::make_unexpected(ok.error());
  int count = 0;
  try {
    {
      pqxx::work tx(conn);
      tx.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLockKey);
      tx.exec(
          "CREATE TABLE IF NOT EXISTS schema_migrations ("
          " version integer PRIMARY KEY,"
          " name text NOT NULL,"
          " checksum text NOT NULL,"
          " applied_at timestamptz NOT NULL DEFAULT now())");
      tx.commit();
    }
    for (const auto& m : migrations) {
      pqxx::work tx(conn);
      tx.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLockKey);
      bool exists = false;
      auto applied = readApplied(tx, exists);
      auto it = applied.find(m.version);
      if (it != applied.end()) {
        if (it->second.checksum != sha256Hex(m.sql)) {
          return fail(ErrorCode::kConflict, "migration " + label(m) +
                                                " in the database differs from this binary's; migrations must never "
                                                "be edited once applied");
        }
        continue;
      }
      tx.exec(m.sql);
      tx.exec_params("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", m.version, m.name,
                     sha256Hex(m.sql));
      tx.commit();
      ++count;
      if (onApplied) onApplied(m);
    }
  } catch (const pqxx::broken_connection& e) {
    return fail(ErrorCode::kUnavailable, std::string("lost the database connection while migrating: ") + e.what());
  } catch (const std::exception& e) {
    return fail(ErrorCode::kInternal, std::string("migration failed, its transaction was rolled back: ") + e.what());
  }
  return count;
}

Result<int> checkSchema(pqxx::connection_base& conn, const std::vector<Migration>& migrations) {
  const int binaryVersion = migrations.empty() ? 0 : migrations.back().version;
  try {
    pqxx::read_transaction tx(conn);
    bool exists = false;
    auto applied = readApplied(tx, exists);
    if (!exists || applied.empty()) {
      return fail(ErrorCode::kUnavailable,
                  "the database has no hie-node schema; run `hie-node migrate` first");
    }
    const int dbVersion = applied.rbegin()->first;
    if (dbVersion > binaryVersion) {
      return fail(ErrorCode::kUnavailable,
                  "the database schema is at version " + std::to_string(dbVersion) +
                      ", newer than this binary's " + std::to_string(binaryVersion) +
                      "; run a hie-node release that matches the database");
    }
    for (const auto& m : migrations) {
      auto it = applied.find(m.version);
      if (it == applied.end()) {
        return fail(ErrorCode::kUnavailable,
                    "the database schema is behind this binary (migration " + label(m) +
                        " not applied); run `hie-node migrate`");
      }
      if (it->second.checksum != sha256Hex(m.sql)) {
        return fail(ErrorCode::kUnavailable,
                    "migration " + label(m) + " in the database differs from this binary's; the schema was changed "
                                              "outside hie-node");
      }
    }
    return dbVersion;
  } catch (const pqxx::broken_connection& e) {
    return fail(ErrorCode::kUnavailable, std::string("lost the database connection: ") + e.what());
  } catch (const std::exception& e) {
    return fail(ErrorCode::kInternal, std::string("cannot read the schema version: ") + e.what());
  }
}

}  // namespace hie::db

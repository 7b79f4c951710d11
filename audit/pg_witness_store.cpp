#include "audit/pg_witness_store.h"

#include <pqxx/pqxx>

#include "db/connection_pool.h"
#include "db/pooled.h"

namespace hie::audit {
namespace {

std::optional<CosignedHead> headOf(const pqxx::result& rows) {
  if (rows.empty()) return std::nullopt;
  CosignedHead h;
  h.size = static_cast<std::uint64_t>(rows[0][0].as<long long>());
  const std::string hex = rows[0][1].as<std::string>();
  std::string raw;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) raw.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  if (!merkle::fromBytes(raw, h.root)) return std::nullopt;  // not 32 bytes: the caller reports it
  return h;
}

bool sameHead(const std::optional<CosignedHead>& a, const std::optional<CosignedHead>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->size == b->size && a->root == b->root);
}

}  // namespace

Result<std::optional<CosignedHead>> PgWitnessStore::latest(const std::string& origin) {
  return db::withConnection(pool_, "read witness checkpoint", [&](pqxx::connection& c) -> Result<std::optional<CosignedHead>> {
    pqxx::nontransaction tx(c);
    auto rows = tx.exec_params(
        "SELECT tree_size, encode(root_hash, 'hex') FROM witness_checkpoints WHERE origin = $1", origin);
    auto head = headOf(rows);
    if (!rows.empty() && !head) {
      return fail(ErrorCode::kInternal, "witness_checkpoints of " + origin + ": the stored root is not 32 bytes",
                  "Internal error.");
    }
    return head;
  });
}

Result<bool> PgWitnessStore::advance(const std::string& origin, const std::optional<CosignedHead>& expected,
                                     const CosignedHead& head, const std::string& note) {
  return db::withConnection(pool_, "store witness checkpoint", [&](pqxx::connection& c) -> Result<bool> {
    pqxx::work tx(c);
    // The row lock holds every other submission for origin until this one commits or aborts.
    auto rows = tx.exec_params(
        "SELECT tree_size, encode(root_hash, 'hex') FROM witness_checkpoints WHERE origin = $1 FOR UPDATE", origin);
    if (!sameHead(headOf(rows), expected)) return false;  // aborted: nothing stored
    const long long size = static_cast<long long>(head.size);
    const std::string root = merkle::toHex(head.root);
    if (!expected) {
      // No row to lock yet: of two first submissions, the second waits here for the first to
      // commit, then inserts nothing and loses.
      auto inserted = tx.exec_params(
          "INSERT INTO witness_checkpoints (origin, tree_size, root_hash, note) VALUES ($1, $2, decode($3, 'hex'), $4) "
          "ON CONFLICT (origin) DO NOTHING",
          origin, size, root, note);
      if (inserted.affected_rows() == 0) return false;
    } else {
      tx.exec_params(
          "UPDATE witness_checkpoints SET tree_size = $2, root_hash = decode($3, 'hex'), note = $4, updated_at = now() "
          "WHERE origin = $1",
          origin, size, root, note);
    }
    // A head cosigned again (same size and root) is kept once, as first cosigned.
    tx.exec_params(
        "INSERT INTO witness_cosigned (origin, tree_size, root_hash, note) VALUES ($1, $2, decode($3, 'hex'), $4) "
        "ON CONFLICT (origin, tree_size) DO NOTHING",
        origin, size, root, note);
    tx.commit();
    return true;
  });
}

}  // namespace hie::audit

#include "audit/pg_audit_log_store.h"

#include <map>

#include <pqxx/pqxx>

#include "audit/witness_policy.h"
#include "common/hex.h"
#include "db/session.h"
#include "db/sql_array.h"

namespace hie::audit {
namespace {

// bytea travels as hex text both ways (libpqxx 6.4 has no std::byte strings).
std::string byteaLiteral(const std::string& raw) { return "'\\x" + lowerHex(raw) + "'::bytea"; }

std::string fromHex(const std::string& hex) {
  std::string out;
  out.reserve(hex.size() / 2);
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  }
  return out;
}

// The stored hash of the perfect subtree (level, index) of origin's tree, read in tx: level 0 is the
// leaf hash of leaf index; level l is stored with the last leaf of the subtree.
Result<merkle::Hash> storedPerfectHash(pqxx::transaction_base& tx, const std::string& origin, int level,
                                       std::uint64_t index) {
  const std::uint64_t row = level == 0 ? index : ((index + 1) << level) - 1;
  auto rows = tx.exec_params(
      "SELECT encode(CASE WHEN $3 = 0 THEN leaf_hash ELSE substring(subtree_hashes FROM ($3 - 1) * 32 + 1 FOR 32) END, "
      "'hex') FROM audit_log_leaves WHERE origin = $1 AND idx = $2",
      origin, static_cast<long long>(row), level);
  merkle::Hash h{};
  if (rows.empty() || !merkle::fromBytes(fromHex(rows[0][0].as<std::string>()), h)) {
    return fail(ErrorCode::kNotFound, "audit log " + origin + ": no stored hash of level " + std::to_string(level) +
                                          " index " + std::to_string(index));
  }
  return h;
}

class PgHashSource : public merkle::HashSource {
 public:
  PgHashSource(db::Session& session, std::string origin) : session_(session), origin_(std::move(origin)) {}

  Result<merkle::Hash> perfect(int level, std::uint64_t index) override {
    const auto key = std::make_pair(level, index);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    auto got = session_.run("read audit log hashes", [&](pqxx::connection& c) -> Result<merkle::Hash> {
      pqxx::read_transaction tx(c);
      return storedPerfectHash(tx, origin_, level, index);
    });
    if (got) cache_.emplace(key, *got);
    return got;
  }

 private:
  db::Session& session_;
  std::string origin_;
  std::map<std::pair<int, std::uint64_t>, merkle::Hash> cache_;
};

Result<std::optional<std::string>> optionalText(const pqxx::result& rows) {
  if (rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows[0][0].as<std::string>());
}

}  // namespace

PgAuditLogStore::PgAuditLogStore(std::string dbUri) : session_(std::make_unique<db::Session>(std::move(dbUri))) {}
PgAuditLogStore::~PgAuditLogStore() = default;

Result<LogHead> PgAuditLogStore::head(const std::string& origin) {
  // One snapshot: another process may append between two reads, and the stored size, the newest
  // checkpoint and the right edge must describe the same tree.
  return session_->run("read audit log head", [&](pqxx::connection& c) -> Result<LogHead> {
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(c);
    LogHead h;
    h.size = static_cast<std::uint64_t>(
        tx.exec_params("SELECT coalesce(max(idx) + 1, 0) FROM audit_log_leaves WHERE origin = $1", origin)[0][0]
            .as<long long>());
    auto latest = tx.exec_params(
        "SELECT note FROM audit_log_checkpoints WHERE origin = $1 ORDER BY tree_size DESC LIMIT 1", origin);
    class SnapshotSource : public merkle::HashSource {
     public:
      SnapshotSource(pqxx::transaction_base& tx, const std::string& origin) : tx_(tx), origin_(origin) {}
      Result<merkle::Hash> perfect(int level, std::uint64_t index) override {
        return storedPerfectHash(tx_, origin_, level, index);
      }

     private:
      pqxx::transaction_base& tx_;
      const std::string& origin_;
    } source(tx, origin);
    auto frontier = merkle::Frontier::load(h.size, source);
    if (!frontier) return tl::make_unexpected(frontier.error());
    h.frontier = std::move(*frontier);
    if (!latest.empty()) {
      const std::string note = latest[0][0].as<std::string>();
      auto parsed = note::parse(note);
      if (!parsed) {
        return fail(ErrorCode::kInternal, "the latest stored checkpoint of " + origin + " is malformed: " +
                                              parsed.error().internal);
      }
      auto treeHead = TreeHead::parse(parsed->text);
      if (!treeHead) {
        return fail(ErrorCode::kInternal, "the latest stored checkpoint of " + origin + " is malformed: " +
                                              treeHead.error().internal);
      }
      h.latest = SignedCheckpoint{*treeHead, note};
    }
    return h;
  });
}

Result<bool> PgAuditLogStore::append(const std::string& origin, const std::vector<LogLeaf>& leaves,
                                     const SignedCheckpoint& checkpoint, std::chrono::milliseconds statementTimeout) {
  return session_->run("append audit log leaves", [&](pqxx::connection& c) -> Result<bool> {
    // One round trip: a simple query of several statements runs as one implicit transaction,
    // and its reply comes after the commit. The primary keys are the sequencer: if another
    // writer holds one of these indices or this checkpoint size, the whole batch fails.
    pqxx::nontransaction tx(c);
    std::string sql;
    sql.reserve(512 + leaves.size() * 1300);
    if (statementTimeout.count() > 0) {
      sql += "SET LOCAL statement_timeout = " + std::to_string(statementTimeout.count()) + "; ";
    }
    const std::string o = tx.quote(origin);
    if (!leaves.empty()) {
      sql += "INSERT INTO audit_log_leaves (origin, idx, leaf, leaf_hash, subtree_hashes) VALUES ";
      bool first = true;
      for (const auto& l : leaves) {
        std::string completed;
        completed.reserve(l.completed.size() * 32);
        for (const auto& h : l.completed) completed += merkle::toBytes(h);
        sql += first ? "(" : ", (";
        first = false;
        sql += o + ", " + std::to_string(l.index) + ", " + tx.quote(l.leaf) + ", " + byteaLiteral(merkle::toBytes(l.hash)) +
               ", " + byteaLiteral(completed) + ")";
      }
      sql += "; ";
    }
    sql += "INSERT INTO audit_log_checkpoints (origin, tree_size, root_hash, note) VALUES (" + o + ", " +
           std::to_string(checkpoint.head.size) + ", " + byteaLiteral(merkle::toBytes(checkpoint.head.root)) + ", " +
           tx.quote(checkpoint.note) + ")";
    try {
      tx.exec(sql);
    } catch (const pqxx::unique_violation& e) {
      return fail(ErrorCode::kConflict, std::string("append audit log leaves: another writer got there first: ") + e.what(),
                  "audit log conflict");
    }
    return true;
  });
}

Result<bool> PgAuditLogStore::hasCheckpoint(const std::string& origin, std::uint64_t size, const merkle::Hash& root) {
  return session_->run("read audit log checkpoint", [&](pqxx::connection& c) -> Result<bool> {
    pqxx::read_transaction tx(c);
    auto rows = tx.exec_params(
        "SELECT 1 FROM audit_log_checkpoints WHERE origin = $1 AND tree_size = $2 AND root_hash = decode($3, 'hex')",
        origin, static_cast<long long>(size), merkle::toHex(root));
    return !rows.empty();
  });
}

std::unique_ptr<merkle::HashSource> PgAuditLogStore::hashes(const std::string& origin) {
  return std::make_unique<PgHashSource>(*session_, origin);
}

Result<std::vector<std::string>> PgAuditLogStore::origins() {
  return session_->run("read audit log origins", [&](pqxx::connection& c) -> Result<std::vector<std::string>> {
    pqxx::read_transaction tx(c);
    std::vector<std::string> out;
    for (const auto& row : tx.exec("SELECT origin FROM (SELECT DISTINCT origin FROM audit_log_leaves UNION "
                                   "SELECT DISTINCT origin FROM audit_log_checkpoints) o ORDER BY origin COLLATE \"C\"")) {
      out.push_back(row[0].as<std::string>());
    }
    return out;
  });
}

Result<std::uint64_t> PgAuditLogStore::storedSize(const std::string& origin) {
  return session_->run("read audit log size", [&](pqxx::connection& c) -> Result<std::uint64_t> {
    pqxx::read_transaction tx(c);
    auto rows = tx.exec_params("SELECT coalesce(max(idx) + 1, 0) FROM audit_log_leaves WHERE origin = $1", origin);
    return static_cast<std::uint64_t>(rows[0][0].as<long long>());
  });
}

Result<std::vector<std::string>> PgAuditLogStore::checkpoints(const std::string& origin) {
  return session_->run("read audit log checkpoints", [&](pqxx::connection& c) -> Result<std::vector<std::string>> {
    pqxx::read_transaction tx(c);
    std::vector<std::string> out;
    for (const auto& row :
         tx.exec_params("SELECT note FROM audit_log_checkpoints WHERE origin = $1 ORDER BY tree_size", origin)) {
      out.push_back(row[0].as<std::string>());
    }
    return out;
  });
}

Result<std::optional<std::string>> PgAuditLogStore::checkpointAt(const std::string& origin, std::uint64_t size) {
  return session_->run("read audit log checkpoint", [&](pqxx::connection& c) -> Result<std::optional<std::string>> {
    pqxx::read_transaction tx(c);
    return optionalText(tx.exec_params("SELECT note FROM audit_log_checkpoints WHERE origin = $1 AND tree_size = $2",
                                       origin, static_cast<long long>(size)));
  });
}

Result<std::optional<std::string>> PgAuditLogStore::latestCheckpoint(const std::string& origin) {
  return session_->run("read audit log checkpoint", [&](pqxx::connection& c) -> Result<std::optional<std::string>> {
    pqxx::read_transaction tx(c);
    return optionalText(tx.exec_params(
        "SELECT note FROM audit_log_checkpoints WHERE origin = $1 ORDER BY tree_size DESC LIMIT 1", origin));
  });
}

Result<std::optional<std::uint64_t>> PgAuditLogStore::latestCosignedSize(const std::string& origin, int minWitnesses) {
  return session_->run("read audit log cosignatures", [&](pqxx::connection& c) -> Result<std::optional<std::uint64_t>> {
    pqxx::read_transaction tx(c);
    auto rows = minWitnesses <= 0
                    ? tx.exec_params("SELECT max(tree_size) FROM audit_log_checkpoints WHERE origin = $1", origin)
                    : tx.exec_params("SELECT max(tree_size) FROM (SELECT tree_size FROM audit_log_cosignatures "
                                     "WHERE origin = $1 GROUP BY tree_size HAVING count(DISTINCT witness) >= $2) s",
                                     origin, minWitnesses);
    if (rows[0][0].is_null()) return std::optional<std::uint64_t>();
    return std::optional<std::uint64_t>(static_cast<std::uint64_t>(rows[0][0].as<long long>()));
  });
}

Result<std::pair<std::uint64_t, std::uint64_t>> PgAuditLogStore::leafRunByTime(const std::string& origin,
                                                                               std::uint64_t size,
                                                                               const std::string& from,
                                                                               const std::string& to) {
  using Run = std::pair<std::uint64_t, std::uint64_t>;
  return session_->run("read audit log leaves by time", [&](pqxx::connection& c) -> Result<Run> {
    pqxx::read_transaction tx(c);
    // The signed time, read from the leaf itself (audit_leaf_text), never from a copy.
    auto rows = tx.exec_params(
        "SELECT (SELECT min(idx) FROM audit_log_leaves WHERE origin = $1 AND idx < $2 AND "
        "         ($3 = '' OR audit_leaf_text(leaf, 'time') >= $3)), "
        "       (SELECT max(idx) FROM audit_log_leaves WHERE origin = $1 AND idx < $2 AND "
        "         ($4 = '' OR audit_leaf_text(leaf, 'time') <= $4))",
        origin, static_cast<long long>(size), from, to);
    if (rows[0][0].is_null() || rows[0][1].is_null()) return Run{0, 0};
    const auto first = static_cast<std::uint64_t>(rows[0][0].as<long long>());
    const auto last = static_cast<std::uint64_t>(rows[0][1].as<long long>());
    if (last < first) return Run{0, 0};
    return Run{first, last + 1};
  });
}

Result<std::uint64_t> PgAuditLogStore::forEachLeaf(const std::string& origin, std::uint64_t first, std::uint64_t end,
                                                   const std::function<bool(const StoredLeaf&)>& visit) {
  return session_->run("read audit log leaves", [&](pqxx::connection& c) -> Result<std::uint64_t> {
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(c);
    std::uint64_t n = 0;
    long long after = static_cast<long long>(first) - 1;
    while (true) {
      auto rows = tx.exec_params(
          "SELECT idx, leaf, encode(leaf_hash, 'hex'), encode(subtree_hashes, 'hex') FROM audit_log_leaves "
          "WHERE origin = $1 AND idx > $2 AND idx < $3 ORDER BY idx LIMIT 5000",
          origin, after, static_cast<long long>(end));
      if (rows.empty()) break;
      for (const auto& row : rows) {
        StoredLeaf l{static_cast<std::uint64_t>(row[0].as<long long>()), row[1].as<std::string>(),
                     fromHex(row[2].as<std::string>()), fromHex(row[3].as<std::string>())};
        after = static_cast<long long>(l.index);
        ++n;
        if (!visit(l)) return n;
      }
    }
    return n;
  });
}

Result<std::vector<std::pair<std::string, StoredLeaf>>> PgAuditLogStore::leavesWithRequestId(
    const std::string& requestId) {
  using Found = std::vector<std::pair<std::string, StoredLeaf>>;
  return session_->run("read audit log leaves", [&](pqxx::connection& c) -> Result<Found> {
    pqxx::read_transaction tx(c);
    Found out;
    for (const auto& row : tx.exec_params(
             "SELECT origin, idx, leaf, encode(leaf_hash, 'hex'), encode(subtree_hashes, 'hex') FROM audit_log_leaves "
             "WHERE audit_leaf_text(leaf, 'requestId') = $1 ORDER BY origin, idx LIMIT 1000",
             requestId)) {
      out.emplace_back(row[0].as<std::string>(),
                       StoredLeaf{static_cast<std::uint64_t>(row[1].as<long long>()), row[2].as<std::string>(),
                                  fromHex(row[3].as<std::string>()), fromHex(row[4].as<std::string>())});
    }
    return out;
  });
}

Result<std::optional<std::string>> PgAuditLogStore::certificateChain(const std::string& sha256) {
  return session_->run("read kept certificates", [&](pqxx::connection& c) -> Result<std::optional<std::string>> {
    pqxx::read_transaction tx(c);
    return optionalText(tx.exec_params("SELECT chain_pem FROM certificates WHERE sha256 = $1", sha256));
  });
}

Result<std::vector<CheckpointRow>> PgAuditLogStore::checkpointRows(const std::string& origin) {
  return session_->run("read audit log checkpoints", [&](pqxx::connection& c) -> Result<std::vector<CheckpointRow>> {
    pqxx::read_transaction tx(c);
    std::vector<CheckpointRow> out;
    for (const auto& row : tx.exec_params("SELECT tree_size, encode(root_hash, 'hex'), note FROM audit_log_checkpoints "
                                          "WHERE origin = $1 ORDER BY tree_size",
                                          origin)) {
      out.push_back(CheckpointRow{static_cast<std::uint64_t>(row[0].as<long long>()), fromHex(row[1].as<std::string>()),
                                  row[2].as<std::string>()});
    }
    return out;
  });
}

Result<std::vector<CosignatureRow>> PgAuditLogStore::cosignatureRows(const std::string& origin) {
  return session_->run("read audit log cosignatures", [&](pqxx::connection& c) -> Result<std::vector<CosignatureRow>> {
    pqxx::read_transaction tx(c);
    std::vector<CosignatureRow> out;
    for (const auto& row : tx.exec_params("SELECT tree_size, witness, line FROM audit_log_cosignatures "
                                          "WHERE origin = $1 ORDER BY tree_size, witness",
                                          origin)) {
      out.push_back(CosignatureRow{static_cast<std::uint64_t>(row[0].as<long long>()), row[1].as<std::string>(),
                                   row[2].as<std::string>()});
    }
    return out;
  });
}

Result<std::uint64_t> PgAuditLogStore::readLog(
    const std::string& origin,
    const std::function<void(const std::vector<CheckpointRow>&, const std::vector<CosignatureRow>&)>& before,
    const std::function<bool(const StoredLeaf&)>& visit) {
  return session_->run("read audit log", [&](pqxx::connection& c) -> Result<std::uint64_t> {
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(c);
    std::vector<CheckpointRow> checkpoints;
    for (const auto& row : tx.exec_params("SELECT tree_size, encode(root_hash, 'hex'), note FROM audit_log_checkpoints "
                                          "WHERE origin = $1 ORDER BY tree_size",
                                          origin)) {
      checkpoints.push_back(CheckpointRow{static_cast<std::uint64_t>(row[0].as<long long>()),
                                          fromHex(row[1].as<std::string>()), row[2].as<std::string>()});
    }
    std::vector<CosignatureRow> cosignatures;
    for (const auto& row : tx.exec_params("SELECT tree_size, witness, line FROM audit_log_cosignatures "
                                          "WHERE origin = $1 ORDER BY tree_size, witness",
                                          origin)) {
      cosignatures.push_back(CosignatureRow{static_cast<std::uint64_t>(row[0].as<long long>()),
                                            row[1].as<std::string>(), row[2].as<std::string>()});
    }
    before(checkpoints, cosignatures);
    std::uint64_t n = 0;
    long long after = -1;
    while (true) {
      auto rows = tx.exec_params(
          "SELECT idx, leaf, encode(leaf_hash, 'hex'), encode(subtree_hashes, 'hex') FROM audit_log_leaves "
          "WHERE origin = $1 AND idx > $2 ORDER BY idx LIMIT 5000",
          origin, after);
      if (rows.empty()) break;
      for (const auto& row : rows) {
        StoredLeaf l{static_cast<std::uint64_t>(row[0].as<long long>()), row[1].as<std::string>(),
                     fromHex(row[2].as<std::string>()), fromHex(row[3].as<std::string>())};
        after = static_cast<long long>(l.index);
        ++n;
        if (!visit(l)) return n;
      }
    }
    return n;
  });
}

Result<std::vector<note::VerifierKey>> PgAuditLogStore::knownWitnessKeys() {
  return session_->run("read witness keys", [&](pqxx::connection& c) -> Result<std::vector<note::VerifierKey>> {
    pqxx::read_transaction tx(c);
    std::vector<note::VerifierKey> out;
    for (const auto& row : tx.exec("SELECT witness_key FROM peers WHERE witness_key IS NOT NULL ORDER BY organization_id")) {
      auto key = parseVerifierKeyOfType(row[0].as<std::string>(), note::kCosignatureV1, "a witness key of the peer directory");
      if (!key) return tl::make_unexpected(key.error());
      out.push_back(*key);
    }
    return out;
  });
}

Result<std::vector<std::string>> PgAuditLogStore::cosignatures(const std::string& origin, std::uint64_t size) {
  return session_->run("read audit log cosignatures", [&](pqxx::connection& c) -> Result<std::vector<std::string>> {
    pqxx::read_transaction tx(c);
    std::vector<std::string> out;
    for (const auto& row : tx.exec_params(
             "SELECT line FROM audit_log_cosignatures WHERE origin = $1 AND tree_size = $2 ORDER BY witness, received_at",
             origin, static_cast<long long>(size))) {
      out.push_back(row[0].as<std::string>());
    }
    return out;
  });
}

Result<bool> PgAuditLogStore::addCosignatures(const std::string& origin, std::uint64_t size, const std::string& witness,
                                              const std::vector<std::string>& lines) {
  return session_->run("store audit log cosignatures", [&](pqxx::connection& c) -> Result<bool> {
    pqxx::work tx(c);
    for (const auto& line : lines) {
      tx.exec_params("INSERT INTO audit_log_cosignatures (origin, tree_size, witness, line) VALUES ($1, $2, $3, $4) "
                     "ON CONFLICT DO NOTHING",
                     origin, static_cast<long long>(size), witness, line);
    }
    tx.exec_params("INSERT INTO audit_log_witness_sizes (origin, witness, tree_size) VALUES ($1, $2, $3) "
                   "ON CONFLICT (origin, witness) DO UPDATE SET tree_size = excluded.tree_size, updated_at = now()",
                   origin, witness, static_cast<long long>(size));
    tx.commit();
    return true;
  });
}

Result<std::optional<std::uint64_t>> PgAuditLogStore::witnessSize(const std::string& origin, const std::string& witness) {
  return session_->run("read witness size", [&](pqxx::connection& c) -> Result<std::optional<std::uint64_t>> {
    pqxx::read_transaction tx(c);
    auto rows = tx.exec_params("SELECT tree_size FROM audit_log_witness_sizes WHERE origin = $1 AND witness = $2",
                               origin, witness);
    if (rows.empty()) return std::optional<std::uint64_t>();
    return std::optional<std::uint64_t>(static_cast<std::uint64_t>(rows[0][0].as<long long>()));
  });
}

Result<bool> PgAuditLogStore::setWitnessSize(const std::string& origin, const std::string& witness, std::uint64_t size) {
  return session_->run("store witness size", [&](pqxx::connection& c) -> Result<bool> {
    pqxx::work tx(c);
    tx.exec_params("INSERT INTO audit_log_witness_sizes (origin, witness, tree_size) VALUES ($1, $2, $3) "
                   "ON CONFLICT (origin, witness) DO UPDATE SET tree_size = excluded.tree_size, updated_at = now()",
                   origin, witness, static_cast<long long>(size));
    tx.commit();
    return true;
  });
}

Result<bool> PgAuditLogStore::onlyActionsIn(const std::string& origin, std::uint64_t first, std::uint64_t end,
                                            const std::vector<std::string>& actions) {
  if (first >= end) return true;
  return session_->run("read audit log actions", [&](pqxx::connection& c) -> Result<bool> {
    pqxx::read_transaction tx(c);
    // The first leaf of another action ends the scan; only a range of such leaves alone is counted.
    auto row = tx.exec_params1(
        "SELECT CASE WHEN EXISTS (SELECT 1 FROM audit_log_leaves WHERE origin = $1 AND idx >= $2 AND idx < $3 "
        "                         AND NOT (coalesce(audit_leaf_text(leaf, 'action'), '') = ANY($4::text[]))) "
        "            THEN false "
        "            ELSE (SELECT count(*) FROM audit_log_leaves WHERE origin = $1 AND idx >= $2 AND idx < $3) = $3 - $2 "
        "       END",
        origin, static_cast<long long>(first), static_cast<long long>(end), db::textArrayLiteral(actions));
    return row[0].as<bool>();
  });
}

}  // namespace hie::audit

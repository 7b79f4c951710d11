#include "audit/audit_store.h"

#include <pqxx/pqxx>

#include "db/session.h"

namespace hie::audit {

AuditStore::AuditStore(std::string dbUri) : session_(std::make_unique<db::Session>(std::move(dbUri))) {}
AuditStore::~AuditStore() = default;

Result<bool> AuditStore::registerChain(const std::string& chain, const std::string& node,
                                       const std::string& publicKeyPem) {
  return session_->run("register audit chain", [&](pqxx::connection& c) -> Result<bool> {
    pqxx::work tx(c);
    tx.exec_params("INSERT INTO audit_chains (chain_id, node_id, public_key) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                   chain, node, publicKeyPem);
    tx.commit();
    return true;
  });
}

Result<bool> AuditStore::append(const std::vector<AuditRecord>& records, std::chrono::milliseconds statementTimeout) {
  return session_->run("append audit entries", [&](pqxx::connection& c) -> Result<bool> {
    // One round trip per batch: a simple query holding several statements runs as one
    // implicit transaction, and its reply comes after the commit. The timeout, the rows
    // and the commit stand or fall together. (BEGIN + SET + COPY + COMMIT took five.)
    pqxx::nontransaction tx(c);
    std::string sql;
    sql.reserve(256 + records.size() * 1400);
    if (statementTimeout.count() > 0) {
      sql += "SET LOCAL statement_timeout = " + std::to_string(statementTimeout.count()) + "; ";  // this batch only
    }
    sql += "INSERT INTO audit_entries (chain_id, seq, prev_hash, entry_hash, signature, canonical, recorded_at, "
           "event_type, action, outcome, organization, patient, purpose, break_glass, request_id) VALUES ";
    // The query columns are copies of canonical fields, encoded exactly as the entry encodes
    // them: raw bytes that are not UTF-8, or a NUL, would make PostgreSQL refuse the batch.
    auto text = [&tx](const std::string& value) { return tx.quote(printableAscii(value)); };
    bool first = true;
    for (const auto& r : records) {
      const AuditEvent& e = r.event;
      sql += first ? "(" : ", (";
      first = false;
      sql += tx.quote(r.entry.chain) + ", " + std::to_string(r.entry.seq) + ", " + tx.quote(r.entry.prevHash) + ", " +
             tx.quote(r.entry.hash) + ", " + tx.quote(r.entry.signature) + ", " + tx.quote(r.entry.canonical) + ", " +
             text(e.time) + ", " + text(e.eventType) + ", " + text(e.action) + ", " + text(e.outcome) + ", " +
             text(e.organization) + ", " + text(e.patient) + ", " + text(e.purpose) + ", " +
             (e.breakGlass ? "true" : "false") + ", " + text(e.requestId) + ")";
    }
    tx.exec(sql);
    return true;
  });
}

Result<bool> AuditStore::appendCheckpoint(const Checkpoint& cp) {
  return session_->run("store audit checkpoint", [&](pqxx::connection& c) -> Result<bool> {
    pqxx::work tx(c);
    tx.exec_params("INSERT INTO audit_checkpoints (chain_id, seq, entry_hash, checkpoint) VALUES ($1, $2, $3, $4)",
                   cp.chain, cp.seq, cp.hash, cp.toJson());
    tx.commit();
    return true;
  });
}

Result<ChainHead> AuditStore::head(const std::string& chain) {
  return session_->run("read audit chain head", [&](pqxx::connection& c) -> Result<ChainHead> {
    pqxx::read_transaction tx(c);
    ChainHead h;
    h.chain = chain;
    auto rows = tx.exec_params(
        "SELECT seq, entry_hash FROM audit_entries WHERE chain_id = $1 ORDER BY seq DESC LIMIT 1", chain);
    if (!rows.empty()) {
      h.seq = rows[0][0].as<std::int64_t>();
      h.hash = rows[0][1].as<std::string>();
    }
    return h;
  });
}

Result<std::int64_t> AuditStore::forEachEntryWithColumns(
    const std::function<bool(const SealedEntry&, const EntryColumns&)>& visit) {
  return session_->run("read audit entries", [&](pqxx::connection& c) -> Result<std::int64_t> {
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(c);
    std::int64_t n = 0;
    std::string chain;
    std::int64_t seq = 0;
    while (true) {
      auto rows = tx.exec_params(
          "SELECT chain_id, seq, prev_hash, entry_hash, signature, canonical, event_type, action, outcome, organization, "
          "patient, purpose, request_id, break_glass FROM audit_entries WHERE (chain_id, seq) > ($1, $2) "
          "ORDER BY chain_id, seq LIMIT 5000",
          chain, seq);
      if (rows.empty()) break;
      for (const auto& row : rows) {
        SealedEntry e{row[0].as<std::string>(), row[1].as<std::int64_t>(), row[2].as<std::string>(),
                      row[3].as<std::string>(), row[4].as<std::string>(), row[5].as<std::string>()};
        EntryColumns columns{row[6].as<std::string>(), row[7].as<std::string>(), row[8].as<std::string>(),
                             row[9].as<std::string>(), row[10].as<std::string>(), row[11].as<std::string>(),
                             row[12].as<std::string>(), row[13].as<bool>()};
        ++n;
        chain = e.chain;
        seq = e.seq;
        if (!visit(e, columns)) return n;
      }
    }
    return n;
  });
}

Result<std::int64_t> AuditStore::forEachExported(const std::string& from, const std::string& to,
                                                 const std::function<bool(const std::vector<ExportRange>&)>& onRanges,
                                                 const std::function<bool(const SealedEntry&)>& visit) {
  return session_->run("export audit entries", [&](pqxx::connection& c) -> Result<std::int64_t> {
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(c);
    // from/to are bounds in the entries' own time form (auditTimeBound), compared with each entry's
    // signed "time", never with the unsigned recorded_at column.
    // Whole runs rather than a filter on each row: a clock stepped back would otherwise leave
    // a gap in the middle of a chain, and the export would not verify.
    std::vector<ExportRange> ranges;
    for (const auto& row : tx.exec_params(
             "SELECT r.chain_id, r.lo, f.prev_hash, r.hi, l.entry_hash FROM ("
             "  SELECT chain_id,"
             "         min(seq) FILTER (WHERE $1 = '' OR audit_leaf_text(canonical, 'time') >= $1) AS lo,"
             "         max(seq) FILTER (WHERE $2 = '' OR audit_leaf_text(canonical, 'time') <= $2) AS hi"
             "  FROM audit_entries GROUP BY chain_id) r "
             "JOIN audit_entries f ON f.chain_id = r.chain_id AND f.seq = r.lo "
             "JOIN audit_entries l ON l.chain_id = r.chain_id AND l.seq = r.hi "
             "WHERE r.lo <= r.hi ORDER BY r.chain_id COLLATE \"C\"",
             from, to)) {
      ranges.push_back(ExportRange{row[0].as<std::string>(), row[1].as<std::int64_t>(), row[2].as<std::string>(),
                                   row[3].as<std::int64_t>(), row[4].as<std::string>()});
    }
    std::int64_t n = 0;
    if (!onRanges(ranges)) return n;
    for (const auto& range : ranges) {
      // Keyset pages keep memory bounded however long the chain is.
      std::int64_t after = range.first - 1;
      while (after < range.last) {
        auto rows = tx.exec_params(
            "SELECT chain_id, seq, prev_hash, entry_hash, signature, canonical FROM audit_entries "
            "WHERE chain_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT 5000",
            range.chain, after, range.last);
        if (rows.empty()) break;  // a gap; the export then does not verify, which is the truth
        for (const auto& row : rows) {
          SealedEntry e{row[0].as<std::string>(), row[1].as<std::int64_t>(), row[2].as<std::string>(),
                        row[3].as<std::string>(), row[4].as<std::string>(), row[5].as<std::string>()};
          ++n;
          after = e.seq;
          if (!visit(e)) return n;
        }
      }
    }
    return n;
  });
}

Result<std::vector<Checkpoint>> AuditStore::latestCheckpoints() {
  return session_->run("read audit checkpoints", [&](pqxx::connection& c) -> Result<std::vector<Checkpoint>> {
    pqxx::read_transaction tx(c);
    std::vector<Checkpoint> out;
    for (const auto& row : tx.exec(
             "SELECT DISTINCT ON (chain_id) checkpoint FROM audit_checkpoints ORDER BY chain_id, seq DESC, created_at DESC")) {
      auto cp = Checkpoint::fromJson(row[0].as<std::string>());
      if (cp) out.push_back(*cp);
    }
    return out;
  });
}

}  // namespace hie::audit

#include "audit/postgres_audit_reader.h"
#include "common/purpose_of_use.h"
#include "db/page_rows.h"
#include "db/sql_array.h"

#include <pqxx/pqxx>

namespace hie::audit {
namespace {

// Both formats as one trail: format 1 (v1 chain entries) and 2 (v2 log leaves), the log and position,
// the v1 entry hash (a v2 leaf hash is computed from the leaf), and the signed text, filtered on that
// text alone. Every field is read by audit_leaf_text, spelt as in the expression indexes of
// db/migrations/0005 so that the planner can use them. The filters stay outside the UNION ALL: a
// branch with a WHERE clause of its own would not be flattened, and its indexes could then neither
// filter nor order. Each filter is a parameter, the same in every statement below: $1 from, $2 to
// (both normalized by auditTimeBound, "" = open), $3 organization, $4 patient, $5 outcome ("" = any),
// $6 disclosures only (successful reads and searches of a patient that returned something: the signed
// `entities` lists what was returned, empty for a search that found nothing), $7 HIPAA accounting, $8 the TPO purposes. With the parameters known, the
// planner folds away the filters not given.
const std::string& trail() {
  auto field = [](const char* key) { return std::string("audit_leaf_text(m.text, '") + key + "')"; };
  static const std::string kTrail =
      "(SELECT 1 AS format, chain_id AS log, seq AS pos, entry_hash AS hash, canonical AS text FROM audit_entries "
      "UNION ALL SELECT 2, origin, idx, NULL, leaf FROM audit_log_leaves) m"
      " WHERE ($1 = '' OR " + field("time") + " >= $1)"
      " AND ($2 = '' OR " + field("time") + " <= $2)"
      " AND ($3 = '' OR " + field("organization") + " = $3)"
      " AND ($4 = '' OR " + field("patient") + " = $4)"
      " AND ($5 = '' OR " + field("outcome") + " = $5)"
      " AND (NOT $6 OR (" + field("eventType") + " = 'rest' AND " + field("action") + " IN ('read', 'search') AND " +
      field("outcome") + " = 'success' AND " + field("patient") + " <> '' AND " + field("entities") + " <> ''))"
      // Entry times are RFC 3339 UTC with milliseconds: six years ago in that form compares as text.
      " AND (NOT $7 OR (NOT (" + field("purpose") + " = ANY($8::text[])) AND " + field("time") +
      " >= to_char(now() AT TIME ZONE 'UTC' - interval '6 years', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')))";
  return kTrail;
}

// The trail's order: the entry's own time, then its place (v1 before v2, chain or origin, seq or index).
// An entry whose time cannot be read (altered) comes last.
const char* const kOrder = " ORDER BY t, format, log COLLATE \"C\", pos";

TrailEntry trailEntry(const pqxx::row& row) {
  if (row[0].as<int>() == 1) {
    return TrailEntry{TrailEntry::Format::kChain, row[1].as<std::string>(), row[2].as<std::int64_t>(),
                      row[3].as<std::string>(), row[4].as<std::string>()};
  }
  return TrailEntry::fromLeaf(row[1].as<std::string>(), row[2].as<std::int64_t>(), row[4].as<std::string>());
}

// The date filters as entry times; kInvalidInput for a date that does not exist.
Result<std::pair<std::string, std::string>> timeRange(const AuditFilter& f) {
  std::pair<std::string, std::string> range;
  if (!f.from.empty()) {
    auto from = auditTimeBound(f.from, TimeBound::kFrom);
    if (!from) return tl::make_unexpected(from.error());
    range.first = *from;
  }
  if (!f.to.empty()) {
    auto to = auditTimeBound(f.to, TimeBound::kTo);
    if (!to) return tl::make_unexpected(to.error());
    range.second = *to;
  }
  return range;
}

const std::string& tpoArray() {
  static const std::string kTpo = db::textArrayLiteral(purpose::treatmentPaymentOrOperations());
  return kTpo;
}

template <class F>
auto guarded(const char* what, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const pqxx::broken_connection& e) {
    return fail(ErrorCode::kUnavailable, std::string(what) + ": lost the database connection: " + e.what(),
                "The service is temporarily unavailable.");
  } catch (const std::exception& e) {
    return fail(ErrorCode::kInternal, std::string(what) + ": " + e.what(), "Internal error.");
  }
}

Result<AuditPage> queryAudit(pqxx::connection& conn, const AuditFilter& f) {
  auto range = timeRange(f);
  if (!range) return tl::make_unexpected(range.error());
  static const std::string kQuery =
      "SELECT p.format, p.log, p.pos, p.hash, p.text, total.n FROM (SELECT count(*) AS n FROM " + trail() + ") total "
      "LEFT JOIN LATERAL (SELECT m.*, audit_leaf_text(m.text, 'time') AS t FROM " + trail() + kOrder +
      " OFFSET $9 LIMIT $10) p ON true ORDER BY p.t, p.format, p.log COLLATE \"C\", p.pos";
  return guarded("audit query", [&]() -> Result<AuditPage> {
    pqxx::read_transaction tx(conn);
    auto rows = tx.exec_params(kQuery, range->first, range->second, f.organization, f.patient, f.outcome,
                               f.disclosuresOnly, f.hipaaAccounting, tpoArray(), f.offset, f.count + 1);
    AuditPage page;
    db::readPage(rows, f.count, 5, page.total, page.more,
                 [&](const pqxx::row& row) { page.entries.push_back(trailEntry(row)); });
    return page;
  });
}

Result<std::int64_t> forEachMatch(pqxx::connection& conn, const AuditFilter& f,
                                  const std::function<bool(const TrailEntry&)>& visit) {
  auto range = timeRange(f);
  if (!range) return tl::make_unexpected(range.error());
  static const std::string kDeclare =
      "DECLARE audit_trail NO SCROLL CURSOR FOR SELECT m.*, audit_leaf_text(m.text, 'time') AS t FROM " + trail() + kOrder;
  return guarded("audit read", [&]() -> Result<std::int64_t> {
    // One snapshot, read through a cursor: memory stays bounded however long the trail is.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn);
    tx.exec_params(kDeclare, range->first, range->second, f.organization, f.patient, f.outcome, f.disclosuresOnly,
                   f.hipaaAccounting, tpoArray());
    std::int64_t n = 0;
    while (true) {
      auto rows = tx.exec("FETCH 1000 FROM audit_trail");
      if (rows.empty()) break;
      for (const auto& row : rows) {
        ++n;
        if (!visit(trailEntry(row))) return n;
      }
    }
    return n;
  });
}

}  // namespace

Result<AuditPage> PgAuditReader::query(const AuditFilter& filter) {
  auto lease = pool_.acquire();
  if (!lease) return tl::make_unexpected(lease.error());
  auto page = queryAudit(**lease, filter);
  if (!page && !(*lease)->is_open()) lease->discard();
  return page;
}

Result<std::int64_t> PgAuditReader::forEach(const AuditFilter& filter,
                                            const std::function<bool(const TrailEntry&)>& visit) {
  auto lease = pool_.acquire();
  if (!lease) return tl::make_unexpected(lease.error());
  auto visited = forEachMatch(**lease, filter, visit);
  if (!visited && !(*lease)->is_open()) lease->discard();
  return visited;
}

}  // namespace hie::audit

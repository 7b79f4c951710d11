#include "audit/postgres_audit_reader.h"
#include "common/purpose_of_use.h"
#include "db/page_rows.h"
#include "db/sql_array.h"

#include <pqxx/pqxx>

namespace hie::audit {
namespace {

Result<AuditPage> queryAudit(pqxx::connection& conn, const AuditFilter& f) {
  if ((!f.from.empty() && !isAuditTime(f.from)) || (!f.to.empty() && !isAuditTime(f.to))) {
    return fail(ErrorCode::kInvalidInput, "dates must be YYYY-MM-DD or an RFC 3339 date-time");
  }
  static const std::string tpoArray = db::textArrayLiteral(purpose::treatmentPaymentOrOperations());
  try {
    pqxx::read_transaction tx(conn);
    // Every filter is a parameter; an empty one matches everything.
    const std::string where =
        " WHERE ($1 = '' OR recorded_at >= $1::timestamptz)"
        " AND ($2 = '' OR recorded_at <= (CASE WHEN length($2) = 10 THEN ($2::date + 1)::timestamptz - interval '1 microsecond'"
        "                                    ELSE $2::timestamptz END))"
        " AND ($3 = '' OR organization = $3)"
        " AND ($4 = '' OR patient = $4)"
        " AND ($5 = '' OR outcome = $5)"
        " AND (NOT $6 OR (event_type = 'rest' AND action IN ('read', 'search') AND outcome = 'success' AND patient <> ''))"
        " AND (NOT $7 OR (NOT (purpose = ANY($8::text[])) AND recorded_at >= now() - interval '6 years'))";
    auto rows = tx.exec_params(
        "WITH m AS (SELECT chain_id, seq, prev_hash, entry_hash, signature, canonical, recorded_at FROM audit_entries" +
            where +
            "), total AS (SELECT count(*) AS n FROM m) "
            "SELECT p.chain_id, p.seq, p.prev_hash, p.entry_hash, p.signature, p.canonical, total.n FROM total "
            "LEFT JOIN LATERAL (SELECT * FROM m ORDER BY recorded_at, chain_id, seq OFFSET $9 LIMIT $10) p ON true "
            "ORDER BY p.recorded_at, p.chain_id, p.seq",
        f.from, f.to, f.organization, f.patient, f.outcome, f.disclosuresOnly, f.hipaaAccounting,
        tpoArray, f.offset,
        f.count + 1);
    AuditPage page;
    db::readPage(rows, f.count, 6, page.total, page.more, [&](const pqxx::row& row) {
      page.entries.push_back(SealedEntry{row[0].as<std::string>(), row[1].as<std::int64_t>(), row[2].as<std::string>(),
                                         row[3].as<std::string>(), row[4].as<std::string>(), row[5].as<std::string>()});
    });
    return page;
  } catch (const pqxx::broken_connection& e) {
    return fail(ErrorCode::kUnavailable, std::string("audit query: lost the database connection: ") + e.what(),
                "The service is temporarily unavailable.");
  } catch (const pqxx::data_exception& e) {
    return fail(ErrorCode::kInvalidInput, std::string("audit query: ") + e.what(), "Invalid date.");
  } catch (const std::exception& e) {
    return fail(ErrorCode::kInternal, std::string("audit query: ") + e.what(), "Internal error.");
  }
}

}  // namespace

Result<AuditPage> PgAuditReader::query(const AuditFilter& filter) {
  auto lease = pool_.acquire();
  if (!lease) return tl::make_unexpected(lease.error());
  auto page = queryAudit(**lease, filter);
  if (!page && !(*lease)->is_open()) lease->discard();
  return page;
}

}  // namespace hie::audit

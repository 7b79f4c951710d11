// The audit trail read from PostgreSQL for reviewers (the /audit API and the
// FHIR export): the v1 chains (audit_entries) and the v2 log (audit_log_leaves)
// as one trail, every filter and the order computed from the signed text
// (canonical, leaf) through audit_leaf_text (db/migrations/0005), never from
// the copied columns beside it.
#pragma once

#include <functional>

#include "audit/audit_query.h"
#include "db/connection_pool.h"

namespace hie::audit {

// Leases a connection of pool per call; a broken connection is discarded.
class PgAuditReader : public AuditReader {
 public:
  explicit PgAuditReader(db::ConnectionPool& pool) : pool_(pool) {}
  Result<AuditPage> query(const AuditFilter& filter) override;
  // Every entry matching filter (count and offset ignored), in the order of query(), read in one
  // snapshot a batch at a time; stops when visit returns false. Returns how many were visited.
  Result<std::int64_t> forEach(const AuditFilter& filter, const std::function<bool(const TrailEntry&)>& visit);

 private:
  db::ConnectionPool& pool_;
};

}  // namespace hie::audit

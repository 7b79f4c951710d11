// The audit trail read from PostgreSQL for reviewers (the /audit API).
#pragma once

#include "audit/audit_query.h"
#include "db/connection_pool.h"

namespace hie::audit {

// Leases a connection of pool per query; a broken connection is discarded.
class PgAuditReader : public AuditReader {
 public:
  explicit PgAuditReader(db::ConnectionPool& pool) : pool_(pool) {}
  Result<AuditPage> query(const AuditFilter& filter) override;

 private:
  db::ConnectionPool& pool_;
};

}  // namespace hie::audit

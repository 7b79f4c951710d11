// Reading the audit trail for reviewers: filtered, paged, newest last.
// AuditReader is what the /audit handler reads through; the PostgreSQL
// implementation is PgAuditReader (postgres_audit_reader.h).
#pragma once

#include <string>
#include <vector>

#include "audit/audit_chain.h"
#include "common/result.h"

namespace hie::audit {

struct AuditFilter {
  std::string from;          // RFC 3339 date or date-time, inclusive ("" = open)
  std::string to;            // inclusive ("" = open)
  std::string organization;  // agent organization identifier
  std::string patient;       // Patient/ID
  std::string outcome;       // success | denied | error
  bool disclosuresOnly = false;  // successful reads and searches of patient data
  bool hipaaAccounting = false;  // with disclosuresOnly: HIPAA 164.528 (no TPO, six years)
  int count = 50;
  long long offset = 0;
};

struct AuditPage {
  std::vector<SealedEntry> entries;
  long long total = 0;
  bool more = false;
};

// True for YYYY-MM-DD, optionally with Thh:mm[:ss[.ffffff]] and Z or +hh:mm.
bool isAuditTime(const std::string& text);


class AuditReader {
 public:
  virtual ~AuditReader() = default;
  // One page of the entries matching filter, ordered by recorded time, chain and seq; total counts every
  // match. kInvalidInput for a date the store cannot read, kUnavailable when the store is unreachable.
  virtual Result<AuditPage> query(const AuditFilter& filter) = 0;
};

}  // namespace hie::audit

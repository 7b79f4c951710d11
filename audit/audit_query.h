// Reading the audit trail for reviewers: filtered, paged, newest last.
#pragma once

#include <string>
#include <vector>

#include <pqxx/connection>

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

// Purposes that HIPAA's accounting of disclosures leaves out (treatment, payment, operations).
bool isTreatmentPaymentOrOperations(const std::string& purpose);

Result<AuditPage> queryAudit(pqxx::connection& conn, const AuditFilter& filter);

}  // namespace hie::audit

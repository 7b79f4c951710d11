// Reading the audit trail for reviewers: filtered, paged, oldest first, from
// the signed entries of both formats (v1 chains, v2 log leaves). AuditReader is
// what the /audit handler reads through; the PostgreSQL implementation is
// PgAuditReader (postgres_audit_reader.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "audit/audit_chain.h"
#include "common/result.h"

namespace hie::audit {

// Every filter applies to the signed entry itself (docs/api.md, "The audit trail").
struct AuditFilter {
  std::string from;          // the entry's time at or after: an accepted date (isAuditTime), inclusive ("" = open)
  std::string to;            // at or before; a date alone means its end of day ("" = open)
  std::string organization;  // agent organization identifier
  std::string patient;       // Patient/ID
  std::string outcome;       // success | denied | error
  bool disclosuresOnly = false;  // successful reads and searches of patient data that returned some (entities)
  bool hipaaAccounting = false;  // with disclosuresOnly: HIPAA 164.528 (no TPO, six years)
  int count = 50;
  long long offset = 0;
};

// One entry of the trail, in either format, as reviewers read it. text is the signed
// canonical entry (v1) or log leaf (v2), byte for byte as stored.
struct TrailEntry {
  enum class Format { kChain, kLog };  // v1 per-process chain; v2 transparency log
  Format format = Format::kChain;
  std::string log;            // v1: the chain id; v2: the log origin
  std::int64_t position = 0;  // v1: seq; v2: the leaf index
  std::string hash;           // lower-case hex; v1: the entry hash; v2: the leaf hash SHA-256(0x00 || leaf)
  std::string text;

  // "audit entry <chain> #<seq>" or "audit log entry <origin> #<index>", for messages.
  std::string name() const;

  static TrailEntry fromChain(const SealedEntry& entry);
  // The leaf hash is computed from leaf, not read from anywhere.
  static TrailEntry fromLeaf(const std::string& origin, std::int64_t index, const std::string& leaf);
};

struct AuditPage {
  std::vector<TrailEntry> entries;
  long long total = 0;
  bool more = false;
};

// True for YYYY-MM-DD, optionally with Thh:mm[:ss[.ffffff]] and Z or +hh:mm: the syntax only
// (auditTimeBound also checks that the date and time exist).
bool isAuditTime(const std::string& text);

// Which end of a range a date filter bounds.
enum class TimeBound { kFrom, kTo };

// An accepted date filter (isAuditTime) as the instant entries write their `time`: RFC 3339 UTC
// with milliseconds (2026-11-26T18:52:19.123Z), so that entry times compare with it as text. A date
// alone is its first millisecond for kFrom and its last for kTo; a finer fraction rounds inwards
// (up for kFrom, down for kTo), so the comparison is exact. kInvalidInput for a text isAuditTime
// refuses, a date or time that does not exist (2026-02-30, 25:00), or an instant outside the
// years 0001-9999 in UTC.
Result<std::string> auditTimeBound(const std::string& text, TimeBound bound);

class AuditReader {
 public:
  virtual ~AuditReader() = default;
  // One page of the entries matching filter, ordered by their time, then by log position (v1
  // entries before v2 ones, then chain or origin, then seq or index); total counts every match.
  // kInvalidInput for a date auditTimeBound refuses, kUnavailable when the store is unreachable.
  virtual Result<AuditPage> query(const AuditFilter& filter) = 0;
};

}  // namespace hie::audit

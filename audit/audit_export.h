// The jsonl export of the audit trail (docs/audit-format.md, "Export"): signed
// statements saying what part of each chain the export holds, then one line per
// entry. No I/O; `hie-node audit export` feeds it from AuditStore.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "audit/audit_chain.h"
#include "audit/signing_key.h"
#include "common/result.h"

namespace hie::audit {

// The contiguous run of one chain's entries that an export holds: entries first..last,
// where prev is entry first's previous hash (the genesis hash when first is 1) and
// hash is entry last's hash.
struct ExportRange {
  std::string chain;
  std::int64_t first = 0;
  std::string prev;
  std::int64_t last = 0;
  std::string hash;
};

// What the export as a whole was asked for; the same in each of its statements.
struct ExportRequest {
  std::string id;    // 16 random lower-case hex digits, one per export
  std::string time;  // when the export was made, RFC 3339 UTC with milliseconds
  std::string from;  // --from as given, "" when not given (the export then starts at genesis)
  std::string to;    // --to as given, "" when not given
};

// One statement line: the request, the number of chains, and one chain's range
// (an export with no entries has one statement with chains 0 and an empty range).
struct ExportStatement {
  ExportRequest request;
  std::int64_t chains = 0;
  ExportRange range;
  std::string signature;  // base64 Ed25519 over exportSignatureInput(canonical())

  // The statement without "sig", in canonical form.
  std::string canonical() const;
  // The statement line (without the newline): canonical form with "sig".
  std::string toJson() const;
};

// A fresh request: a random id and the current time.
ExportRequest newExportRequest(const std::string& from, const std::string& to);

// The bytes the Ed25519 signature covers for a statement: "hie-audit-export-v1\n" + canonical.
std::string exportSignatureInput(const std::string& canonicalStatement);

// The signed statements for ranges, in the order given; fails only if signing fails.
Result<std::vector<ExportStatement>> signExportStatements(const ExportRequest& request,
                                                          const std::vector<ExportRange>& ranges,
                                                          const SigningKey& key);

// One entry line (without the newline):
// {"chain":..,"entry":<canonical entry>,"hash":..,"prev":..,"seq":..,"sig":..}
std::string exportEntryLine(const SealedEntry& entry);

}  // namespace hie::audit

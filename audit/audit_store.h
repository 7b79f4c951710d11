// The audit tables in PostgreSQL: chains, entries (append-only), checkpoints.
// The writer's AuditChainStore, and what the audit commands read. Owns one
// connection, reopened after it breaks. Not thread-safe: the writer thread is
// its only user while serving.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_chain.h"
#include "audit/audit_chain_store.h"
#include "audit/audit_export.h"
#include "common/result.h"

namespace hie::db {
class Session;
}

namespace hie::audit {

class AuditStore : public AuditChainStore {
 public:
  explicit AuditStore(std::string dbUri);
  ~AuditStore() override;

  Result<bool> registerChain(const std::string& chain, const std::string& node,
                             const std::string& publicKeyPem) override;
  // All records in one statement batch (one implicit transaction); nothing is stored on error.
  // statementTimeout (0 = none) bounds how long the database may make it wait.
  Result<bool> append(const std::vector<AuditRecord>& records,
                      std::chrono::milliseconds statementTimeout = std::chrono::milliseconds(0)) override;
  Result<bool> appendCheckpoint(const Checkpoint& checkpoint) override;
  // The last stored entry of a chain (seq 0 when empty).
  Result<ChainHead> head(const std::string& chain) override;

  // Every entry with its row's query columns, in (chain, seq) order (for `audit verify`).
  Result<std::int64_t> forEachEntryWithColumns(const std::function<bool(const SealedEntry&, const EntryColumns&)>& visit);
  // What a jsonl export holds, read in one snapshot: for each chain, the run of entries from its first
  // entry whose signed time is at or after from to its last at or before to, everything in between included
  // (from/to: bounds in the entries' time form, as auditTimeBound makes them; "" = open). onRanges gets those ranges (ordered by chain) before visit gets
  // their entries in (chain, seq) order; either stops the export by returning false.
  Result<std::int64_t> forEachExported(const std::string& from, const std::string& to,
                                       const std::function<bool(const std::vector<ExportRange>&)>& onRanges,
                                       const std::function<bool(const SealedEntry&)>& visit);
  // Latest checkpoint of each chain, or of one chain.
  Result<std::vector<Checkpoint>> latestCheckpoints();

 private:
  std::unique_ptr<db::Session> session_;
};

}  // namespace hie::audit

// Where the audit writer keeps its chain: register it, append sealed entries,
// store checkpoints, read the stored head. The writer thread is the only user
// (implementations need not be thread-safe). Failures are values; an append
// that fails may still have been stored (a lost connection leaves the commit
// in doubt), which the writer settles by reading head(). The PostgreSQL
// implementation is AuditStore (audit_store.h).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "audit/audit_chain.h"
#include "audit/audit_event.h"
#include "common/result.h"

namespace hie::audit {

struct AuditRecord {
  SealedEntry entry;
  AuditEvent event;
};

class AuditChainStore {
 public:
  virtual ~AuditChainStore() = default;
  // Idempotent: registering a chain that exists changes nothing.
  virtual Result<bool> registerChain(const std::string& chain, const std::string& node,
                                     const std::string& publicKeyPem) = 0;
  // All records or none (one transaction). statementTimeout (0 = none) bounds how long the store may wait.
  virtual Result<bool> append(const std::vector<AuditRecord>& records,
                              std::chrono::milliseconds statementTimeout = std::chrono::milliseconds(0)) = 0;
  virtual Result<bool> appendCheckpoint(const Checkpoint& checkpoint) = 0;
  // The last stored entry of a chain (seq 0 and the genesis hash when empty).
  virtual Result<ChainHead> head(const std::string& chain) = 0;
};

}  // namespace hie::audit

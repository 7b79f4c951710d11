// Where the request path hands its audit events. record() returns only once
// the entry is durably committed (fail closed: an error means the caller
// must not release the response).
#pragma once

#include <cstdint>
#include <vector>

#include "audit/audit_event.h"
#include "common/result.h"

namespace hie::audit {

class AuditSink {
 public:
  virtual ~AuditSink() = default;
  // Blocks until committed; returns the entry's sequence number, or kUnavailable.
  virtual Result<std::int64_t> record(const AuditEvent& event) = 0;
  // Blocks until every event is committed (they can share one group commit);
  // kUnavailable if any of them is not.
  virtual Result<bool> recordAll(const std::vector<AuditEvent>& events) {
    for (const auto& e : events) {
      auto committed = record(e);
      if (!committed) return tl::make_unexpected(committed.error());
    }
    return true;
  }
  // For events no response waits on (refused handshakes): queued and retried
  // while the store is down, within a bounded backlog.
  virtual void recordAsync(const AuditEvent& event) = 0;
};

}  // namespace hie::audit

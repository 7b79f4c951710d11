// Where the request path hands its audit events. record() returns only once
// the entry is durably committed (fail closed: an error means the caller
// must not release the response).
#pragma once

#include <cstdint>

#include "audit/audit_event.h"
#include "common/result.h"

namespace hie::audit {

class AuditSink {
 public:
  virtual ~AuditSink() = default;
  // Blocks until committed; returns the entry's sequence number, or kUnavailable.
  virtual Result<std::int64_t> record(const AuditEvent& event) = 0;
  // For events no response waits on (refused handshakes): queued and retried
  // while the store is down, within a bounded backlog.
  virtual void recordAsync(const AuditEvent& event) = 0;
};

}  // namespace hie::audit

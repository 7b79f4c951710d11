// An AuditReader for unit tests of the /audit handler: answers a fixed page
// (or a fixed error) and remembers what it was asked (the real reader is
// tested against PostgreSQL in the integration tests).
#pragma once

#include <optional>

#include "audit/audit_query.h"

namespace hie::testing {

class MemoryAuditReader : public audit::AuditReader {
 public:
  audit::AuditPage page;
  std::optional<Error> failure;  // when set, every query fails with it
  std::vector<audit::AuditFilter> asked;

  Result<audit::AuditPage> query(const audit::AuditFilter& filter) override {
    asked.push_back(filter);
    if (failure) return tl::make_unexpected(*failure);
    return page;
  }
};

}  // namespace hie::testing

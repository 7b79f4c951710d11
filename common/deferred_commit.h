// Work that must become durable only after something else is (a record write waits for its
// audit entry): commit() makes it durable; destroying it uncommitted undoes it.
#pragma once

#include "common/result.h"

namespace hie {

class DeferredCommit {
 public:
  virtual ~DeferredCommit() = default;  // uncommitted: rolled back
  // kUnavailable when the outcome is unknown or the store is gone (nothing may be assumed either way).
  virtual Result<void> commit() = 0;
};

}  // namespace hie

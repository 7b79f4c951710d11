// Signs a batch of linked audit entries on several cores. Linking (hashes) is
// sequential and cheap; Ed25519 signing is the writer's main CPU cost (about
// 46 µs per entry here), so the writer thread shares a batch with helpers.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "audit/audit_chain.h"
#include "audit/signing_key.h"
#include "common/result.h"

namespace hie::audit {

class ParallelSigner {
 public:
  // helpers: extra threads besides the caller (0 signs everything on the caller's thread).
  explicit ParallelSigner(unsigned helpers);
  ~ParallelSigner();
  ParallelSigner(const ParallelSigner&) = delete;
  ParallelSigner& operator=(const ParallelSigner&) = delete;

  // Signs every entry; the calling thread takes a share and returns once all are
  // signed. The first signing error, if any (every entry is attempted).
  Result<bool> signAll(std::vector<SealedEntry*>& entries, const SigningKey& key);

  // One helper per core beyond the first, at most three.
  static unsigned defaultHelpers();

 private:
  void helperLoop();
  // Signs entries from the shared index until none is left; records the first error.
  void drain(std::vector<SealedEntry*>& entries, const SigningKey& key);

  std::mutex mutex_;
  std::condition_variable work_;
  std::condition_variable done_;
  // The current job (guarded by mutex_, except next_ which is claimed atomically).
  std::vector<SealedEntry*>* entries_ = nullptr;
  const SigningKey* key_ = nullptr;
  std::atomic<std::size_t> next_{0};
  std::uint64_t generation_ = 0;
  bool open_ = false;     // helpers may still join the current job
  unsigned busy_ = 0;     // helpers inside drain()
  bool failed_ = false;
  Error error_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace hie::audit

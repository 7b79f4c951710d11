#include "audit/parallel_signer.h"

#include <algorithm>

namespace hie::audit {

namespace {
// Below this, waking a helper costs about as much as it saves.
constexpr std::size_t kMinParallelBatch = 2;
}  // namespace

ParallelSigner::ParallelSigner(unsigned helpers) {
  threads_.reserve(helpers);
  for (unsigned i = 0; i < helpers; ++i) threads_.emplace_back([this] { helperLoop(); });
}

ParallelSigner::~ParallelSigner() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  work_.notify_all();
  for (auto& t : threads_) t.join();
}

unsigned ParallelSigner::defaultHelpers() {
  const unsigned cores = std::thread::hardware_concurrency();
  return cores <= 1 ? 0 : std::min(cores - 1, 3u);
}

Result<bool> ParallelSigner::signAll(std::vector<SealedEntry*>& entries, const SigningKey& key) {
  if (threads_.empty() || entries.size() < kMinParallelBatch) {
    for (SealedEntry* e : entries) {
      auto ok = signEntry(*e, key);
      if (!ok) return ok;
    }
    return true;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    entries_ = &entries;
    key_ = &key;
    next_.store(0);
    failed_ = false;
    open_ = true;
    ++generation_;
  }
  work_.notify_all();
  drain(entries, key);
  std::unique_lock<std::mutex> lock(mutex_);
  // Helpers not yet awake find the job closed and never touch it; only those
  // already signing are waited for.
  open_ = false;
  done_.wait(lock, [this] { return busy_ == 0; });
  entries_ = nullptr;
  key_ = nullptr;
  if (failed_) return tl::make_unexpected(error_);
  return true;
}

void ParallelSigner::drain(std::vector<SealedEntry*>& entries, const SigningKey& key) {
  for (std::size_t i = next_.fetch_add(1); i < entries.size(); i = next_.fetch_add(1)) {
    auto ok = signEntry(*entries[i], key);
    if (!ok) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!failed_) error_ = ok.error();
      failed_ = true;
    }
  }
}

void ParallelSigner::helperLoop() {
  std::uint64_t seen = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    work_.wait(lock, [&] { return stop_ || (open_ && generation_ != seen); });
    if (stop_) return;
    seen = generation_;
    ++busy_;
    std::vector<SealedEntry*>& entries = *entries_;  // stable until busy_ is back to 0
    const SigningKey& key = *key_;
    lock.unlock();
    drain(entries, key);
    lock.lock();
    if (--busy_ == 0) done_.notify_one();
  }
}

}  // namespace hie::audit

#include "audit/audit_writer.h"

#include <spdlog/spdlog.h>

#include "common/hex.h"
#include "common/time.h"

namespace hie::audit {

std::string newChainId(const std::string& node) {
  const std::string random = randomHex(6);
  std::string time = utc::nowMillis().substr(0, 19);  // 2026-11-26T18:52:19
  for (char& c : time) {
    if (c == ':') c = '-';
  }
  // Only characters the entry encoding keeps as they are: the id is stored unchanged in the
  // entry's "chain" key and in its row (a %XX here would be encoded again, to %25XX).
  std::string name;
  for (unsigned char c : node.substr(0, 64)) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                       c == '_' || c == '-';
    name.push_back(plain ? static_cast<char>(c) : '_');
  }
  return name + "/" + time + "Z/" + random;
}

AuditWriter::AuditWriter(std::unique_ptr<AuditChainStore> store, SigningKey key, std::string node, std::string chain,
                         WriterOptions options, Counters& counters)
    : store_(std::move(store)),
      key_(std::move(key)),
      node_(std::move(node)),
      chain_(std::move(chain)),
      options_(options),
      counters_(counters),
      signer_(ParallelSigner::defaultHelpers()) {
  head_.chain = chain_;
}

AuditWriter::~AuditWriter() { stop(); }

Result<bool> AuditWriter::start() {
  auto registered = store_->registerChain(chain_, node_, key_.publicPem());
  if (!registered) return registered;
  lastCheckpoint_ = std::chrono::steady_clock::now();
  thread_ = std::thread([this] { run(); });
  return true;
}

void AuditWriter::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

Result<std::int64_t> AuditWriter::record(const AuditEvent& event) { return commit(&event, 1).front(); }

Result<bool> AuditWriter::recordAll(const std::vector<AuditEvent>& events) {
  if (events.empty()) return true;
  for (auto& committed : commit(events.data(), events.size())) {
    if (!committed) return tl::make_unexpected(committed.error());
  }
  return true;
}

std::vector<Result<std::int64_t>> AuditWriter::commit(const AuditEvent* events, std::size_t count) {
  std::vector<std::future<Result<std::int64_t>>> futures;
  std::vector<std::shared_ptr<State>> states;
  futures.reserve(count);
  states.reserve(count);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Result<std::int64_t> refused = 0;
    if (stopping_) {
      refused = fail(ErrorCode::kUnavailable, "audit writer stopping", "service stopping");
    } else if (queue_.size() + count > options_.maxBacklog) {
      counters_.auditRefusedBacklogFull.inc();
      refused = fail(ErrorCode::kUnavailable, "audit backlog full", "audit store unavailable");
    }
    if (!refused) return std::vector<Result<std::int64_t>>(count, refused);
    // Queued together, so they normally share one group commit.
    for (std::size_t i = 0; i < count; ++i) {
      auto done = std::make_shared<std::promise<Result<std::int64_t>>>();
      futures.push_back(done->get_future());
      states.push_back(std::make_shared<State>(State::kQueued));
      queue_.push_back(Pending{events[i], done, states.back()});
    }
  }
  wake_.notify_one();
  const auto deadline = std::chrono::steady_clock::now() + options_.commitTimeout;
  bool allReady = true;
  for (auto& f : futures) {
    if (f.wait_until(deadline) != std::future_status::ready) {
      allReady = false;
      break;
    }
  }
  std::vector<bool> cancelled(count, false);
  if (!allReady) {
    // What is still queued is cancelled: never committed, so the caller's 503 is the truth and
    // no entry claims a reply the caller did not get. What is already in a commit is waited
    // for: its outcome decides, and the statement timeout bounds the wait.
    std::lock_guard<std::mutex> lock(mutex_);
    for (std::size_t i = 0; i < count; ++i) {
      if (*states[i] != State::kQueued) continue;
      *states[i] = State::kCancelled;
      cancelled[i] = true;
    }
    counters_.auditCommitTimeouts.inc();
  }
  std::vector<Result<std::int64_t>> results;
  results.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (cancelled[i]) {
      results.push_back(fail(ErrorCode::kUnavailable,
                             "audit entry not committed within " + std::to_string(options_.commitTimeout.count()) +
                                 " ms",
                             "audit store unavailable"));
    } else {
      results.push_back(futures[i].get());
    }
  }
  return results;
}

void AuditWriter::recordAsync(const AuditEvent& event) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (queue_.size() >= options_.maxBacklog) {
      counters_.auditDroppedAsync.inc();
      spdlog::error("audit backlog full: dropped a {} event (request id {})", event.action, event.requestId);
      return;
    }
    queue_.push_back(Pending{event, nullptr, std::make_shared<State>(State::kQueued)});
  }
  wake_.notify_one();
}

std::size_t AuditWriter::queueDepth() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size();
}

double AuditWriter::lastCommitMillis() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return lastCommitMillis_;
}

bool AuditWriter::healthy() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return healthy_;
}

void AuditWriter::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    const auto checkpointDue = lastCheckpoint_ + options_.checkpointInterval;
    wake_.wait_until(lock, checkpointDue, [this] { return stopping_ || !queue_.empty(); });
    if (!queue_.empty()) {
      std::deque<Pending> batch;
      takeBatch(batch);
      lock.unlock();
      commitBatch(batch);
      lock.lock();
      if (!batch.empty()) {
        if (stopping_) {
          // The store is down and the node is stopping: what is left cannot be written.
          spdlog::error("audit writer stopping with {} uncommitted events (database unavailable)",
                        batch.size() + queue_.size());
          counters_.auditDroppedAsync.inc(batch.size() + queue_.size());
          queue_.clear();
          break;
        }
        // Async events that could not be stored go back to the front, in order.
        for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
          *it->state = State::kQueued;
          queue_.push_front(std::move(*it));
        }
        wake_.wait_for(lock, options_.retryDelay, [this] { return stopping_; });
      }
      continue;  // while stopping, the queue drains before the loop ends
    }
    if (stopping_) break;
    if (std::chrono::steady_clock::now() >= checkpointDue) {
      lock.unlock();
      checkpoint();
      lock.lock();
    }
  }
  // The final checkpoint.
  lock.unlock();
  checkpoint();
}

void AuditWriter::takeBatch(std::deque<Pending>& batch) {
  while (!queue_.empty() && batch.size() < options_.maxBatch) {
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    if (*p.state == State::kCancelled) continue;
    *p.state = State::kTaken;
    batch.push_back(std::move(p));
  }
}

void AuditWriter::commitBatch(std::deque<Pending>& batch) {
  if (batch.empty()) return;
  const auto started = std::chrono::steady_clock::now();
  if (resync_) {
    // After a failed commit the outcome may be unknown: continue from what is stored.
    auto stored = store_->head(chain_);
    if (!stored) {
      for (auto& p : batch) {
        if (p.done) p.done->set_value(tl::make_unexpected(stored.error()));
      }
      batch.erase(std::remove_if(batch.begin(), batch.end(), [](const Pending& p) { return p.done != nullptr; }),
                  batch.end());
      std::lock_guard<std::mutex> lock(mutex_);
      healthy_ = false;
      return;
    }
    head_ = *stored;
    resync_ = false;
  }
  ChainHead next = head_;
  std::vector<AuditRecord> records;
  records.reserve(batch.size());
  std::vector<SealedEntry*> toSign;
  toSign.reserve(batch.size());
  for (auto& p : batch) {
    if (p.event.time.empty()) p.event.time = utc::nowMillis();
    records.push_back(AuditRecord{link(p.event, node_, next), p.event});
  }
  for (auto& r : records) toSign.push_back(&r.entry);
  const auto signStarted = std::chrono::steady_clock::now();
  auto signedAll = signer_.signAll(toSign, key_);
  const auto storeStarted = std::chrono::steady_clock::now();
  if (!signedAll) {
    spdlog::critical("cannot sign audit entries: {}", signedAll.error().internal);
    std::abort();  // a broken signing key is an invariant failure, not bad input
  }
  auto stored = store_->append(records, options_.commitTimeout);
  const auto storeEnded = std::chrono::steady_clock::now();
  const double ms = std::chrono::duration<double, std::milli>(storeEnded - started).count();
  // Where a batch's time goes: linking and signing on this node's cores, then the round trip and commit.
  auto micros = [](auto d) { return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count()); };
  counters_.auditSignMicros.inc(micros(storeStarted - signStarted));
  counters_.auditStoreMicros.inc(micros(storeEnded - storeStarted));
  if (!stored) {
    // A connection lost after the batch was sent leaves its outcome in doubt: the server may
    // have committed it. If the chain's stored head is this batch's last entry, it was.
    auto now = store_->head(chain_);
    if (now && now->seq == next.seq && now->hash == next.hash) {
      spdlog::warn("audit commit reported an error but the batch is stored: {}", stored.error().internal);
      counters_.auditCommitsConfirmedAfterError.inc();
      stored = true;
    }
  }
  if (!stored) {
    resync_ = true;
    counters_.auditCommitFailures.inc();
    bool wasHealthy;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      wasHealthy = healthy_;
      healthy_ = false;
    }
    if (wasHealthy) spdlog::error("audit commit failed, refusing requests until it recovers: {}", stored.error().internal);
    for (auto& p : batch) {
      if (p.done) p.done->set_value(tl::make_unexpected(stored.error()));
    }
    batch.erase(std::remove_if(batch.begin(), batch.end(), [](const Pending& p) { return p.done != nullptr; }),
                batch.end());
    return;
  }
  head_ = next;
  counters_.auditEntriesCommitted.inc(records.size());
  counters_.auditBatchesCommitted.inc();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!healthy_) spdlog::info("audit store recovered");
    healthy_ = true;
    lastCommitMillis_ = ms;
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].done) batch[i].done->set_value(records[i].entry.seq);
  }
  batch.clear();
}

void AuditWriter::checkpoint() {
  lastCheckpoint_ = std::chrono::steady_clock::now();
  if (resync_ || head_.seq == checkpointedSeq_) return;
  auto cp = signCheckpoint(head_, node_, utc::nowMillis(), key_);
  if (!cp) return;
  auto stored = store_->appendCheckpoint(*cp);
  if (!stored) {
    spdlog::warn("audit checkpoint not stored: {}", stored.error().internal);
    return;
  }
  checkpointedSeq_ = head_.seq;
  counters_.auditCheckpoints.inc();
}

}  // namespace hie::audit

#include "audit/audit_writer.h"

#include <spdlog/spdlog.h>

#include "audit/canonical_form.h"
#include "common/time.h"

namespace hie::audit {
namespace {

std::uint64_t micros(std::chrono::steady_clock::duration d) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

}  // namespace

AuditWriter::AuditWriter(std::unique_ptr<AuditLogStore> store, SigningKey key, std::string node, std::string origin,
                         WriterOptions options, Counters& counters)
    : store_(std::move(store)),
      key_(std::move(key)),
      node_(std::move(node)),
      origin_(std::move(origin)),
      options_(options),
      counters_(counters) {
  verifier_.name = origin_;
  verifier_.type = note::kEd25519;
  verifier_.publicKey = key_.rawPublicKey();
  verifier_.id = note::keyId(origin_, note::kEd25519, verifier_.publicKey);
}

AuditWriter::~AuditWriter() { stop(); }

Result<bool> AuditWriter::start() {
  auto loaded = resync();
  if (!loaded) return loaded;
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

Result<bool> AuditWriter::resync() {
  auto head = store_->head(origin_);
  if (!head) return tl::make_unexpected(head.error());
  auto refuse = [this](const std::string& why) {
    spdlog::critical("audit log {}: {}; refusing to append to it (run `hie-node audit verify`)", origin_, why);
    return fail(ErrorCode::kInternal, "audit log " + origin_ + ": " + why, "audit store unavailable");
  };
  const std::uint64_t size = head->size;
  const merkle::Hash root = head->frontier.root();
  auto source = store_->hashes(origin_);
  // The stored tree must extend every checkpoint this writer trusts: the last one it signed or
  // checked, and the newest stored one (which must carry this key's signature).
  std::vector<TreeHead> anchors;
  if (trusted_) anchors.push_back(*trusted_);
  if (head->latest) {
    auto opened = openCheckpoint(head->latest->note, verifier_);
    if (!opened) return refuse("its latest stored checkpoint does not verify with this node's audit key: " +
                               opened.error().internal);
    anchors.push_back(opened->head);
  }
  for (const TreeHead& anchor : anchors) {
    if (anchor.size > size) {
      return refuse("it holds " + std::to_string(size) + " leaves but a signed checkpoint covers " +
                    std::to_string(anchor.size) + " (truncated)");
    }
    auto proof = merkle::consistencyProof(anchor.size, size, *source);
    if (!proof) return tl::make_unexpected(proof.error());
    if (!merkle::verifyConsistency(anchor.size, size, *proof, anchor.root, root)) {
      return refuse("the stored tree of " + std::to_string(size) + " leaves is not consistent with the signed "
                    "checkpoint of " + std::to_string(anchor.size) + " leaves (history rewritten)");
    }
  }
  frontier_ = std::move(head->frontier);
  const TreeHead current{origin_, size, root};
  if (size > 0 && (!head->latest || head->latest->head.size < size)) {
    // Leaves that no checkpoint covers: this writer never stores any (it commits leaves and their
    // checkpoint in one transaction, and head() reads one snapshot), so something else inserted
    // them. Signing over them would vouch for what this node never wrote: fail closed instead.
    const std::uint64_t covered = head->latest ? head->latest->head.size : 0;
    return refuse("it holds " + std::to_string(size - covered) + " leaves past its newest signed checkpoint (of " +
                  std::to_string(covered) + " leaves) that this node did not write");
  }
  trusted_ = current;
  resync_ = false;
  return true;
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
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) break;  // stopping, and everything is written
    std::deque<Pending> batch;
    takeBatch(batch);
    lock.unlock();
    commitBatch(batch);
    lock.lock();
    if (batch.empty()) continue;  // while stopping, the queue drains before the loop ends
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

void AuditWriter::failWaiting(std::deque<Pending>& batch, const Error& error) {
  for (auto& p : batch) {
    if (p.done) p.done->set_value(tl::make_unexpected(error));
  }
  // Async events stay for a retry.
  batch.erase(std::remove_if(batch.begin(), batch.end(), [](const Pending& p) { return p.done != nullptr; }),
              batch.end());
}

void AuditWriter::commitBatch(std::deque<Pending>& batch) {
  if (batch.empty()) return;
  const auto started = std::chrono::steady_clock::now();
  for (auto& p : batch) {
    if (p.event.time.empty()) p.event.time = utc::nowMillis();  // sealed once, kept across retries
  }
  for (int attempt = 0; attempt <= options_.maxSequencingRetries; ++attempt) {
    if (resync_) {
      auto synced = resync();
      if (!synced) {
        {
          std::lock_guard<std::mutex> lock(mutex_);
          healthy_ = false;
        }
        failWaiting(batch, synced.error());
        return;
      }
    }
    const auto encodeStarted = std::chrono::steady_clock::now();
    merkle::Frontier next = frontier_;
    std::vector<LogLeaf> leaves;
    leaves.reserve(batch.size());
    for (const auto& p : batch) {
      LogLeaf leaf;
      leaf.index = next.size();
      leaf.leaf = canonicalJson(leafObject(p.event, node_, leaf.index));
      leaf.hash = merkle::leafHash(leaf.leaf);
      leaf.completed = next.append(leaf.hash);
      leaves.push_back(std::move(leaf));
    }
    const TreeHead head{origin_, next.size(), next.root()};
    auto checkpoint = signTreeHead(head, key_);
    if (!checkpoint) {
      spdlog::critical("cannot sign an audit checkpoint: {}", checkpoint.error().internal);
      std::abort();  // a broken signing key is an invariant failure, not bad input
    }
    const auto storeStarted = std::chrono::steady_clock::now();
    auto stored = store_->append(origin_, leaves, *checkpoint, options_.commitTimeout);
    const auto storeEnded = std::chrono::steady_clock::now();
    counters_.auditSignMicros.inc(micros(storeStarted - encodeStarted));
    counters_.auditStoreMicros.inc(micros(storeEnded - storeStarted));
    if (!stored && stored.error().code == ErrorCode::kConflict) {
      // Another process appended first: take its leaves into the tree and go again.
      counters_.auditSequencingConflicts.inc();
      resync_ = true;
      continue;
    }
    if (!stored) {
      // A connection lost after the batch was sent leaves its outcome in doubt: the server may
      // have committed it. If this batch's checkpoint is stored, it was.
      auto present = store_->hasCheckpoint(origin_, head.size, head.root);
      if (present && *present) {
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
      if (wasHealthy) {
        spdlog::error("audit commit failed, refusing requests until it recovers: {}", stored.error().internal);
      }
      failWaiting(batch, stored.error());
      return;
    }
    frontier_ = std::move(next);
    trusted_ = head;
    counters_.auditEntriesCommitted.inc(leaves.size());
    counters_.auditBatchesCommitted.inc();
    counters_.auditCheckpoints.inc();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!healthy_) spdlog::info("audit store recovered");
      healthy_ = true;
      lastCommitMillis_ = std::chrono::duration<double, std::milli>(storeEnded - started).count();
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].done) batch[i].done->set_value(static_cast<std::int64_t>(leaves[i].index));
    }
    batch.clear();
    return;
  }
  spdlog::error("audit log {}: another writer appended first {} times in a row", origin_,
                options_.maxSequencingRetries + 1);
  failWaiting(batch, Error{ErrorCode::kUnavailable, "audit log sequencing: too many conflicts", "audit store unavailable"});
}

}  // namespace hie::audit

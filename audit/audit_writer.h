// The dedicated audit writer: callers enqueue events, one thread appends them
// as leaves of the node's transparency log and commits them in groups (one
// transaction per batch, holding the leaves and the signed checkpoint of the
// new tree), then wakes the callers. Several processes may append to one log:
// the database's primary key sequences the leaves, and a writer that lost the
// race reloads the tree and retries. Recovers by itself when the database returns.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_sink.h"
#include "audit/transparency_log.h"
#include "common/counters.h"

namespace hie::audit {

struct WriterOptions {
  std::size_t maxBatch = 512;
  std::chrono::milliseconds commitTimeout{5000};       // how long record() waits before failing closed; also the
                                                       // statement timeout of the writer's transactions
  std::chrono::milliseconds retryDelay{250};
  std::size_t maxBacklog = 100000;                      // queued events beyond this are refused
  int maxSequencingRetries = 20;                        // a batch that loses the race this often fails
};

class AuditWriter : public AuditSink {
 public:
  AuditWriter(std::unique_ptr<AuditLogStore> store, SigningKey key, std::string node, std::string origin,
              WriterOptions options, Counters& counters);
  ~AuditWriter() override;

  // Loads the stored tree, checks it extends the latest stored checkpoint (signed with this key),
  // signs a checkpoint over leaves stored without one, and starts the thread. Fails (nothing
  // started) when the store is unreachable or the stored log does not verify.
  Result<bool> start();
  // Commits what is queued (bounded by commitTimeout), stops.
  void stop();

  // The committed leaf's index (covered by a signed checkpoint when this returns).
  Result<std::int64_t> record(const AuditEvent& event) override;
  Result<bool> recordAll(const std::vector<AuditEvent>& events) override;
  void recordAsync(const AuditEvent& event) override;

  std::size_t queueDepth() const;
  double lastCommitMillis() const;
  bool healthy() const;
  const std::string& origin() const { return origin_; }

 private:
  // A waiting caller that gave up (commitTimeout) cancels its event while it is
  // still queued, so that no entry claims a reply the caller never received.
  enum class State { kQueued, kTaken, kCancelled };
  struct Pending {
    AuditEvent event;
    std::shared_ptr<std::promise<Result<std::int64_t>>> done;  // null for async events
    std::shared_ptr<State> state;                               // guarded by mutex_
  };
  std::vector<Result<std::int64_t>> commit(const AuditEvent* events, std::size_t count);
  void run();
  void takeBatch(std::deque<Pending>& batch);
  void commitBatch(std::deque<Pending>& batch);
  // Reloads the stored tree and checks it extends the last checkpoint this writer signed or read.
  Result<bool> resync();
  void failWaiting(std::deque<Pending>& batch, const Error& error);

  std::unique_ptr<AuditLogStore> store_;
  SigningKey key_;
  note::VerifierKey verifier_;
  std::string node_;
  std::string origin_;
  WriterOptions options_;
  Counters& counters_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  bool healthy_ = true;
  double lastCommitMillis_ = 0;
  std::thread thread_;

  // Writer-thread state: the tree as committed, and the newest checkpoint known good.
  merkle::Frontier frontier_;
  std::optional<TreeHead> trusted_;
  bool resync_ = false;
};

}  // namespace hie::audit

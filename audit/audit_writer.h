// The dedicated audit writer: callers enqueue events, one thread seals them
// into this process's chain and commits them in groups (one transaction per
// batch), then wakes the callers. Writes a signed checkpoint periodically and
// at stop. Recovers by itself when the database returns.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_chain.h"
#include "audit/audit_sink.h"
#include "audit/audit_chain_store.h"
#include "audit/parallel_signer.h"
#include "common/counters.h"

namespace hie::audit {

struct WriterOptions {
  std::size_t maxBatch = 512;
  std::chrono::milliseconds commitTimeout{5000};       // how long record() waits before failing closed; also the
                                                       // statement timeout of the writer's transactions
  std::chrono::milliseconds checkpointInterval{60000};
  std::chrono::milliseconds retryDelay{250};
  std::size_t maxBacklog = 100000;                      // queued events beyond this are refused
};

class AuditWriter : public AuditSink {
 public:
  AuditWriter(std::unique_ptr<AuditChainStore> store, SigningKey key, std::string node, std::string chain,
              WriterOptions options, Counters& counters);
  ~AuditWriter() override;

  // Registers the chain and starts the thread; fails if the store is unreachable.
  Result<bool> start();
  // Commits what is queued (bounded by commitTimeout), writes a final checkpoint, stops.
  void stop();

  Result<std::int64_t> record(const AuditEvent& event) override;
  Result<bool> recordAll(const std::vector<AuditEvent>& events) override;
  void recordAsync(const AuditEvent& event) override;

  std::size_t queueDepth() const;
  double lastCommitMillis() const;
  bool healthy() const;
  const std::string& chain() const { return chain_; }

 private:
  // A waiting caller that gave up (commitTimeout) cancels its event while it is
  // still queued, so that no entry claims a reply the caller never received.
  enum class State { kQueued, kTaken, kCancelled };
  struct Pending {
    AuditEvent event;
    std::shared_ptr<std::promise<Result<std::int64_t>>> done;  // null for async events
    std::shared_ptr<State> state;                               // guarded by mutex_
  };
  // Queues count events together and waits for their commits, up to commitTimeout; one result per event.
  std::vector<Result<std::int64_t>> commit(const AuditEvent* events, std::size_t count);
  void run();
  // Moves up to maxBatch live events from the queue into batch (mutex_ held).
  void takeBatch(std::deque<Pending>& batch);
  void commitBatch(std::deque<Pending>& batch);
  void checkpoint();

  std::unique_ptr<AuditChainStore> store_;
  SigningKey key_;
  std::string node_;
  std::string chain_;
  WriterOptions options_;
  Counters& counters_;
  ParallelSigner signer_;  // writer thread only

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  bool healthy_ = true;
  double lastCommitMillis_ = 0;
  std::thread thread_;

  // Writer-thread state.
  ChainHead head_;
  bool resync_ = false;
  std::int64_t checkpointedSeq_ = 0;
  std::chrono::steady_clock::time_point lastCheckpoint_;
};

// A chain id for this process: node id (bytes other than A-Z a-z 0-9 . _ - as '_', at most 64),
// start time and random bits.
std::string newChainId(const std::string& node);

}  // namespace hie::audit

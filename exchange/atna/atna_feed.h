// The ATNA feed (IHE ITI-20, docs/operations.md "ATNA feed"): on its own thread, sends every
// committed leaf of the audit logs in the database (every leaf below the newest signed
// checkpoint of its origin) to one audit record repository, as RFC 5424 syslog messages over
// RFC 5425 TLS, in index order, batch by batch:
// - the cursor of (repository, origin) in PostgreSQL says what was delivered; a batch is read
//   and sent while its cursor row is held (so no two node processes send the same log to the
//   same repository at once), and the cursor moves only after the transport confirmed the batch;
// - a failure (repository unreachable, TLS refused, database down) waits with exponential
//   backoff (capped) and sends the batch again: delivery is at-least-once, and a message sent
//   twice carries the same origin, index and leaf hash in its structured data;
// - requests never wait for it: it only reads the log.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "audit/atna_message.h"
#include "common/counters.h"
#include "common/result.h"

namespace hie::exchange {

// One committed leaf as the feed reads it.
struct FeedLeaf {
  std::uint64_t index = 0;
  std::string leaf;  // the signed bytes
};

// The cursors and the committed leaves (PostgreSQL: PgAtnaCursors). Used by the feed's thread only.
class AtnaCursorStore {
 public:
  virtual ~AtnaCursorStore() = default;
  struct Batch {
    bool held = false;        // false: another sender holds this cursor now; nothing was read
    std::size_t read = 0;     // leaves handed to deliver
    std::size_t delivered = 0;
    // A committed leaf below the newest checkpoint is not stored (tampering, or a bad restore):
    // the batch stops before it, and the log cannot go past it.
    bool gap = false;
    std::uint64_t missingIndex = 0;
  };
  // The origins that have signed checkpoints.
  virtual Result<std::vector<std::string>> origins() = 0;
  // Holds the cursor of (repository, origin), reads up to limit committed leaves from it, hands them
  // to deliver (which returns how many from the first were delivered) and moves the cursor past them.
  virtual Result<Batch> sendNext(const std::string& repository, const std::string& origin, std::size_t limit,
                                 const std::function<std::size_t(const std::vector<FeedLeaf>&)>& deliver) = 0;
  // Committed leaves of every origin not yet delivered to repository.
  virtual Result<std::uint64_t> backlog(const std::string& repository) = 0;
};

// Delivers framed messages to the repository. All or nothing: success means the repository read
// every one of them (docs/operations.md says how that is confirmed).
class SyslogTransport {
 public:
  virtual ~SyslogTransport() = default;
  virtual Result<void> deliver(const std::vector<std::string>& frames) = 0;
  // Cuts a delivery under way (it fails at once) and every later one; from any thread.
  virtual void cancel() {}
};

// The name of a repository's cursors: "host:port" with the host in lower case (DNS names are
// case-insensitive) and an IPv6 address in brackets ("[2001:db8::7]:6514"). Another spelling of
// the same name still is another repository (an IP address instead of the name, a trailing dot).
std::string atnaRepositoryKey(const std::string& host, int port);

struct AtnaFeedOptions {
  std::string repository;  // atnaRepositoryKey(): names the cursors
  audit::AtnaFormat format = audit::AtnaFormat::kDicom;
  audit::SyslogOrigin syslogOrigin;
  std::size_t batchSize = 100;
  std::size_t maxMessageBytes = 262144;  // larger messages are sent whole, logged and counted
  std::chrono::milliseconds idlePoll{500};  // also the interval of backlog measurements during a catch-up
  std::chrono::milliseconds retryMin{500};
  std::chrono::milliseconds retryMax{30000};
};

// What one round did.
struct AtnaRound {
  std::size_t sent = 0;
  bool failed = false;
};

class AtnaFeed {
 public:
  // store and transport are used by the feed's thread only; all references outlive this.
  AtnaFeed(AtnaCursorStore& store, SyslogTransport& transport, Counters& counters, AtnaFeedOptions options);
  ~AtnaFeed();  // stop()
  AtnaFeed(const AtnaFeed&) = delete;
  AtnaFeed& operator=(const AtnaFeed&) = delete;

  void start();
  // Wakes and joins the thread; a delivery under way is cut (transport cancel()), unconfirmed.
  void stop();

  // Every origin until nothing committed is left or a batch fails (the thread's body; tests call it).
  AtnaRound runRound();
  // Entries committed but not yet delivered, as last measured: when the thread starts, after a
  // batch (at most every idlePoll, so also during a long catch-up) and while it waits to retry.
  // -1 until the first measurement succeeded (just started, or the database unreachable since).
  std::int64_t backlog() const { return backlog_.load(); }
  // When backlog() was last measured (seconds since the epoch; 0: never): its age shows a stale
  // value, e.g. while the database is unreachable.
  std::int64_t backlogMeasuredAt() const { return backlogMeasuredAt_.load(); }

 private:
  void run();
  void measureBacklog();
  bool waitFor(std::chrono::milliseconds d);  // false when stopping
  std::size_t deliver(const std::string& origin, const std::vector<FeedLeaf>& leaves, bool& failed);

  AtnaCursorStore& store_;
  SyslogTransport& transport_;
  Counters& counters_;
  AtnaFeedOptions options_;
  std::atomic<std::int64_t> backlog_{-1};
  std::atomic<std::int64_t> backlogMeasuredAt_{0};
  std::chrono::steady_clock::time_point lastMeasured_{};  // the feed's thread only
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::set<std::pair<std::string, std::uint64_t>> gapsReported_;  // (origin, missing index): logged once
  std::thread thread_;
};

}  // namespace hie::exchange

// Asks this node's witnesses (the peers of the directory with a witness key)
// to cosign its newest checkpoint, over C2SP tlog-witness add-checkpoint
// (c2sp.org/tlog-witness), one round every interval on its own thread:
// - a witness already at the newest size is left alone; so is one whose every
//   leaf since the size it last cosigned is an entry of witnessing itself
//   (action `witness` or `witness-submit`): each submission makes the
//   witness's log and this one grow by such entries, and without this rule
//   the nodes would cosign each other's growth forever (the loop breaker);
// - 200: the cosignature lines of the witness's key that verify are stored
//   (lines of other keys are ignored); a line of its key that does not
//   verify is a failure;
// - 409: the witness names the size it last cosigned; it is recorded and the
//   submission made once more in the same round from that size. A witness
//   ahead of this log, or at a size this log cannot prove consistency from,
//   is an alarm (an error log line and hie_witness_alarms_total), and so is a
//   422 (the witness holds a view this log is not consistent with);
// - anything else is logged and counted (hie_witness_submissions_total).
// Each call is audited (action `witness-submit`) through AuditSink::recordAsync.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "audit/audit_sink.h"
#include "audit/witnessed_log.h"
#include "auth/registry/organization_registry.h"
#include "common/counters.h"
#include "exchange/peers/peer_poster.h"

namespace hie::exchange {

struct WitnessSubmitterOptions {
  std::string origin;        // this node's log origin
  std::string organization;  // this node's organization (its audit entries)
  std::chrono::seconds interval{10};        // audit.witnessInterval
  std::chrono::milliseconds timeout{5000};  // audit.witnessTimeout: one add-checkpoint call, whole
};

// What one round did, witness by witness (for tests and the log).
struct WitnessRound {
  int cosigned = 0;   // witnesses whose cosignature was stored
  int skipped = 0;    // already at the newest size, or only witnessing since (loop breaker)
  int failed = 0;     // calls that failed or were refused, alarms included
  int alarms = 0;
};

class WitnessSubmitter {
 public:
  // All references must outlive this. log is used by the submitter's thread only.
  WitnessSubmitter(audit::WitnessedLog& log, const auth::OrganizationDirectory& directory, PeerPoster& client,
                   audit::AuditSink& audit, Counters& counters, WitnessSubmitterOptions options);
  ~WitnessSubmitter();  // stop()
  WitnessSubmitter(const WitnessSubmitter&) = delete;
  WitnessSubmitter& operator=(const WitnessSubmitter&) = delete;

  // Starts the thread: a round at once, then one every interval.
  void start();
  // Wakes and joins the thread; it finishes the call under way (bounded by the timeout; cut at
  // once when the client is stopped first). Idempotent.
  void stop();

  // One round, on the calling thread (the thread's body; tests call it directly).
  WitnessRound runRound();

 private:
  struct Witness;
  // catchingUp: size is the newest size another witness cosigned, sent to one behind it; the loop
  // breaker does not apply.
  void submitTo(const Witness& witness, const std::string& checkpoint, std::uint64_t size, WitnessRound& round,
                bool catchingUp);
  bool stopping();

  audit::WitnessedLog& log_;
  const auth::OrganizationDirectory& directory_;
  PeerPoster& client_;
  audit::AuditSink& audit_;
  Counters& counters_;
  WitnessSubmitterOptions options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace hie::exchange

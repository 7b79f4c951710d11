// POST /witness/add-checkpoint: this node as a C2SP tlog-witness for its
// peers' audit logs (c2sp.org/tlog-witness). The logs it knows are the log
// keys of the peer directory (key name = the log's origin). It cosigns a
// checkpoint (cosignature/v1, c2sp.org/tlog-cosignature) only when it is
// signed by that log's key and consistent with the last checkpoint it
// cosigned for the log, which it advances in the same atomic step
// (audit/witness_store.h) before answering. Reached only by admitted
// organizations (the request gate); audited as action `witness` like any
// request. Wire format and status codes: docs/api.md.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "audit/signing_key.h"
#include "audit/witness_store.h"
#include "auth/registry/registry_snapshot.h"
#include "common/counters.h"
#include "exchange/http/http_call.h"

namespace hie::exchange {

constexpr const char* kAddCheckpointPath = "/witness/add-checkpoint";
// The largest add-checkpoint body the listener reads (63 proof lines and a checkpoint with
// 100 signatures fit well within it); a larger one is refused with 413.
constexpr std::size_t kMaxWitnessBodyBytes = 64 * 1024;

// The POSIX time in seconds (the cosignatures' timestamps).
std::uint64_t posixSeconds();

class WitnessApi {
 public:
  // key signs the cosignatures under name (witness.name). store, key and counters must outlive this.
  WitnessApi(audit::WitnessStore& store, const audit::SigningKey& key, std::string name, Counters& counters,
             std::function<std::uint64_t()> now = posixSeconds);

  // Any path under /witness/. registry: the peer directory whose log keys name the known logs.
  HttpReply handle(const HttpCall& call, const auth::RegistrySnapshot& registry) const;

 private:
  audit::WitnessStore& store_;
  const audit::SigningKey& key_;
  std::string name_;
  Counters& counters_;
  std::function<std::uint64_t()> now_;
};

}  // namespace hie::exchange

// GET /exchange/{Type}?patient.identifier=SYSTEM|VALUE (role local): asks
// every active peer in parallel on the fan-out's node-wide pool of workers
// (at most maxParallel of this request's calls at a time, one overall
// deadline that bounds each call as a whole), forwards the caller's purpose
// of use and request id, hands an audit entry per outbound call to the
// listener (committed with the request's own), and merges the answers
// into one searchset Bundle: every entry marked with its source organization,
// plus an OperationOutcome per peer that failed, timed out or was not asked
// for want of a free worker (`busy`).
#pragma once

#include <chrono>
#include <set>
#include <string>

#include "auth/registry/organization.h"
#include "auth/registry/registry_snapshot.h"
#include "common/counters.h"
#include "exchange/handlers/peer_fanout.h"
#include "exchange/http/http_call.h"

namespace hie::exchange {

struct ExchangeOptions {
  std::chrono::milliseconds deadline{5000};
  int maxParallel = 8;  // this request's calls queued or running at once (the pool is node-wide)
  std::string ownOrganization;  // never asked
  std::set<std::string> resourceTypes;
};

class ExchangeApi {
 public:
  ExchangeApi(PeerFanout& client, ExchangeOptions options, Counters& counters);
  HttpReply handle(const HttpCall& call, const auth::Organization& organization,
                   const auth::RegistrySnapshot& registry) const;

 private:
  PeerFanout& client_;
  ExchangeOptions options_;
  Counters& counters_;
};

// The URL extension that marks a merged entry's source organization.
constexpr const char* kSourceOrganizationExtension = "https://hie-node.dev/fhir/StructureDefinition/source-organization";

}  // namespace hie::exchange

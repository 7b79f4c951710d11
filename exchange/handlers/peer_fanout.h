// What the /exchange handler needs from the outbound client: a bounded pool
// of workers to run calls on, and one GET from a peer node. Implemented by
// PeerClient (exchange/peers/peer_client.h); tests use fakes.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <tl/expected.hpp>

#include "auth/registry/registry_snapshot.h"
#include "exchange/http/http_call.h"

namespace hie::exchange {

struct PeerResponse {
  int status = 0;
  std::string contentType;
  std::string body;
};

// Why a call failed, for the caller's OperationOutcome and the audit entry.
struct PeerFailure {
  std::string reason;  // tls_<reason> | impersonation | timeout | connect | busy | http_<status> | invalid_response | ...
  std::string detail;  // one sentence, safe to show to the local institution
};

class PeerFanout {
 public:
  virtual ~PeerFanout() = default;

  // Runs call on one of the fan-out's workers (shared by every request), first come
  // first served; a call still waiting at its deadline is dropped unrun. false when
  // the fan-out is stopping (call not run).
  virtual bool submit(std::chrono::steady_clock::time_point deadline, std::function<void()> call) = 0;

  // GET pathAndQuery (starting with '/') from the peer's base URL, on the calling
  // thread; returns by the deadline (a call still running then ends as a timeout).
  virtual tl::expected<PeerResponse, PeerFailure> get(const auth::PeerEntry& peer, const std::string& pathAndQuery,
                                                      const HeaderList& headers,
                                                      std::chrono::steady_clock::time_point deadline) = 0;
};

}  // namespace hie::exchange

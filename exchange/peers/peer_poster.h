// One POST to a peer node, for the witness submitter: implemented by
// PeerClient (exchange/peers/peer_client.h) over mTLS; tests use fakes.
#pragma once

#include <chrono>
#include <string>

#include <tl/expected.hpp>

#include "auth/registry/registry_snapshot.h"
#include "exchange/handlers/peer_fanout.h"
#include "exchange/http/http_call.h"

namespace hie::exchange {

class PeerPoster {
 public:
  virtual ~PeerPoster() = default;
  // POSTs body (with contentType) to pathAndQuery (starting with '/') at the peer's base URL, on
  // the calling thread; returns by the deadline. Failures are named as for GET (PeerFailure).
  virtual tl::expected<PeerResponse, PeerFailure> post(const auth::PeerEntry& peer, const std::string& pathAndQuery,
                                                       const std::string& body, const std::string& contentType,
                                                       const HeaderList& headers,
                                                       std::chrono::steady_clock::time_point deadline) = 0;
};

}  // namespace hie::exchange

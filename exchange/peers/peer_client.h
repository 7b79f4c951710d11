// The outbound mTLS client: GETs from peer nodes (and the witness
// submitter's POSTs), presenting this node's certificate and trusting only
// the organization the directory names. Keep-alive connections are pooled
// per peer and TLS sessions resumed. A call's deadline bounds all of it —
// connect, TLS handshake, request and the whole answer — and is enforced on
// the socket (SocketDeadlines), so a peer that trickles its answer is cut at
// the deadline; only the idempotent GETs are retried, a bounded number of
// times, within it. Calls made for requests run on one bounded pool of
// worker threads (OutboundCallPool).
//
// Signatures (docs/api.md, "How this node signs its calls"): with
// signatures.sign every request (each attempt anew) is signed with the key of
// the TLS client certificate; every answer is checked against the server
// certificate of its connection under the peer's signature policy
// (answerPolicy), and one that fails the check is a failed call (reason
// answer_<refusal reason>), never retried.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "exchange/peers/client_options.h"
#include "auth/registry/registry_snapshot.h"
#include "auth/signatures/message_key.h"
#include "auth/tls/client_tls_context.h"
#include "common/counters.h"
#include "common/result.h"
#include "exchange/handlers/peer_fanout.h"
#include "exchange/http/http_call.h"
#include "exchange/net/socket_deadlines.h"
#include "exchange/peers/outbound_call_pool.h"
#include "exchange/peers/peer_poster.h"

namespace Poco::Net {
class HTTPSClientSession;
}

namespace hie::exchange {

class PeerClient : public PeerFanout, public PeerPoster {
 public:
  PeerClient(std::shared_ptr<const auth::TlsMaterial> material, const auth::OrganizationDirectory& directory,
             ClientOptions options, Counters& counters);
  ~PeerClient() override;  // stop()
  PeerClient(const PeerClient&) = delete;
  PeerClient& operator=(const PeerClient&) = delete;

  // Runs call on one of at most maxConcurrentCalls workers shared by every
  // request, first come first served; a call still waiting at its deadline is
  // dropped unrun. false when the client is stopping (call not run).
  bool submit(std::chrono::steady_clock::time_point deadline, std::function<void()> call) override;

  // Cuts every call in flight (they end as timeouts), drops the waiting ones
  // and joins the workers: nothing of this client runs once it returns.
  // Idempotent; get() afterwards fails at once.
  void stop();

  // New material (after a reload): new connections use it, and requests are signed with its key;
  // pooled connections are dropped.
  void useMaterial(std::shared_ptr<const auth::TlsMaterial> material);

  // GET pathAndQuery (starting with '/') from the peer's base URL, on the
  // calling thread. headers should hold X-Request-Id (one is made up when
  // they do not: a signed request must have one) and X-Purpose-Of-Use. Returns by the deadline (plus the moment it takes to
  // notice the cut), except while the system resolver looks up a host name.
  tl::expected<PeerResponse, PeerFailure> get(const auth::PeerEntry& peer, const std::string& pathAndQuery,
                                              const HeaderList& headers,
                                              std::chrono::steady_clock::time_point deadline) override;

  // POST body to pathAndQuery, on the calling thread, within the deadline like get(). Not retried,
  // except that a pooled keep-alive connection that fails at once (closed by the peer while idle)
  // is dropped and the request sent once more on a new connection: a POST made here must be safe
  // to repeat (add-checkpoint is: a repeat is answered 409 or cosigned again).
  tl::expected<PeerResponse, PeerFailure> post(const auth::PeerEntry& peer, const std::string& pathAndQuery,
                                               const std::string& body, const std::string& contentType,
                                               const HeaderList& headers,
                                               std::chrono::steady_clock::time_point deadline) override;

 private:
  struct Channel;
  struct Outgoing;
  Result<std::shared_ptr<Channel>> channel(const auth::PeerEntry& peer);
  tl::expected<PeerResponse, PeerFailure> call(const auth::PeerEntry& peer, const Outgoing& request,
                                               std::chrono::steady_clock::time_point deadline, int retries);

  std::shared_ptr<const auth::TlsMaterial> material_;
  // The key of material_'s certificate, or why there is none (then signed calls fail: signing_failed).
  std::shared_ptr<const auth::MessageSigningKey> signingKey_;
  std::string signingKeyError_;
  const auth::OrganizationDirectory& directory_;
  ClientOptions options_;
  Counters& counters_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Channel>> channels_;  // by organization + base URL
  SocketDeadlines deadlines_;
  OutboundCallPool pool_;  // last: destroyed first, its workers use everything above
};

}  // namespace hie::exchange

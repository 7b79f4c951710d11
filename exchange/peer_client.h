// The outbound mTLS client: GETs from peer nodes, presenting this node's
// certificate and trusting only the organization the directory names.
// Keep-alive connections are pooled per peer and TLS sessions resumed;
// connect and read timeouts never extend past the caller's deadline; only
// these idempotent GETs are retried, a bounded number of times.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "auth/client_tls_context.h"
#include "auth/registry_snapshot.h"
#include "common/counters.h"
#include "common/result.h"
#include "exchange/http_call.h"

namespace Poco::Net {
class HTTPSClientSession;
}

namespace hie::exchange {

struct ClientOptions {
  std::chrono::milliseconds connectTimeout{2000};
  std::chrono::milliseconds readTimeout{5000};
  int retries = 1;                        // extra attempts after a connection failure
  std::size_t maxResponseBytes = 16 << 20;
};

struct PeerResponse {
  int status = 0;
  std::string contentType;
  std::string body;
};

// Why a call failed, for the caller's OperationOutcome and the audit entry.
struct PeerFailure {
  std::string reason;  // tls_<reason> | impersonation | timeout | connect | http_<status> | invalid_response
  std::string detail;  // one sentence, safe to show to the local institution
};

class PeerClient {
 public:
  PeerClient(std::shared_ptr<const auth::TlsMaterial> material, const auth::OrganizationDirectory& directory,
             ClientOptions options, Counters& counters);
  ~PeerClient();

  // Keeps the client alive while a detached caller still uses it: the
  // destructor waits (bounded) until every InFlight is gone.
  class InFlight {
   public:
    explicit InFlight(PeerClient* client) : client_(client) { ++client_->inFlight_; }
    InFlight(InFlight&& other) noexcept : client_(other.client_) { other.client_ = nullptr; }
    InFlight(const InFlight&) = delete;
    ~InFlight() {
      if (client_ != nullptr) --client_->inFlight_;
    }

   private:
    PeerClient* client_;
  };
  InFlight enter() { return InFlight(this); }

  // New material (after a reload): new connections use it, pooled ones are dropped.
  void useMaterial(std::shared_ptr<const auth::TlsMaterial> material);

  // GET pathAndQuery (starting with '/') from the peer's base URL.
  tl::expected<PeerResponse, PeerFailure> get(const auth::PeerEntry& peer, const std::string& pathAndQuery,
                                              const HeaderList& headers,
                                              std::chrono::steady_clock::time_point deadline);

 private:
  struct Channel;
  Result<std::shared_ptr<Channel>> channel(const auth::PeerEntry& peer);

  std::shared_ptr<const auth::TlsMaterial> material_;
  const auth::OrganizationDirectory& directory_;
  ClientOptions options_;
  Counters& counters_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Channel>> channels_;  // by organization + base URL
  std::atomic<int> inFlight_{0};
};

}  // namespace hie::exchange

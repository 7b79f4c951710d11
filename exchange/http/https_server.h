// The mTLS listener: Poco TCPServer over a SecureServerSocket with our own
// connection loop, so that the handshake is completed (and a refusal logged,
// counted and audited) before any HTTP is read, every request is admitted
// only while the client's certificate still stands (auth/tls/client_standing.h),
// every reply, including protocol errors, carries X-Request-Id, and no reply
// leaves before its audit entry is committed.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <Poco/Net/Context.h>

#include "audit/audit_sink.h"
#include "auth/tls/client_standing.h"
#include "common/counters.h"
#include "common/result.h"
#include "exchange/http/request_gate.h"

namespace Poco {
class ThreadPool;
namespace Net {
class TCPServer;
}
}  // namespace Poco

namespace hie::exchange {

class HeadDeadlines;  // cuts connections whose handshake or request head is too slow (https_server.cpp)

struct ListenerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8443;        // 0 = any free port
  int threads = 16;                 // connections served at once
  int maxQueued = 64;               // accepted connections waiting for a thread; beyond: closed
  int timeoutSeconds = 10;          // per-read/write timeout, and the limit for a whole handshake or request head
  int keepAliveSeconds = 5;         // idle time allowed between requests
  int maxKeepAliveRequests = 1000;
};

class HttpsServer {
 public:
  // recheck must be attached to context (ClientRecheck::attachTo).
  HttpsServer(Poco::Net::Context::Ptr context, ListenerOptions options, const auth::ClientRecheck& recheck,
              const RequestGate& gate, audit::AuditSink& audit, Counters& counters);
  ~HttpsServer();
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  // Binds and starts accepting; returns the bound port. kUnavailable if the address is taken.
  Result<std::uint16_t> start();
  bool stopping() const { return stopping_; }
  // Stops accepting, lets each connection finish its current request and
  // close, and waits up to graceSeconds for them.
  void stop(int graceSeconds = 5);

 private:
  Poco::Net::Context::Ptr context_;
  ListenerOptions options_;
  const auth::ClientRecheck& recheck_;
  const RequestGate& gate_;
  audit::AuditSink& audit_;
  Counters& counters_;
  std::atomic<bool> stopping_{false};
  std::unique_ptr<HeadDeadlines> deadlines_;  // outlives the connections: destroyed after pool_ and server_
  std::unique_ptr<Poco::ThreadPool> pool_;
  std::unique_ptr<Poco::Net::TCPServer> server_;
};

}  // namespace hie::exchange

// The mTLS listener: Poco TCPServer over a SecureServerSocket with our own
// connection loop, so that the handshake is completed (and a refusal logged,
// counted and audited) before any HTTP is read, every request is admitted
// only while the client's certificate still stands (auth/tls/client_standing.h),
// every reply, including protocol errors, carries X-Request-Id, and no reply
// leaves before its audit entry is committed (audited_reply.h). A whole
// handshake and each whole request head must arrive within timeoutSeconds
// (exchange/net/socket_deadlines.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"

namespace Poco {
template <class C>
class AutoPtr;
namespace Net {
class Context;
}
}  // namespace Poco

namespace hie {
struct Counters;
}
namespace hie::audit {
class AuditSink;
}
namespace hie::auth {
class ClientRecheck;
}

namespace hie::exchange {

class RequestGate;
class ReplySigner;

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
  // recheck must be attached to context (ClientRecheck::attachTo). All references must outlive this.
  // signer: signs every answer (null: answers go unsigned, signatures.sign = false).
  HttpsServer(const Poco::AutoPtr<Poco::Net::Context>& context, ListenerOptions options,
              const auth::ClientRecheck& recheck, const RequestGate& gate, audit::AuditSink& audit,
              Counters& counters, const ReplySigner* signer = nullptr);
  ~HttpsServer();  // stop(0)
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  // Binds and starts accepting; returns the bound port. kUnavailable if the address is taken.
  Result<std::uint16_t> start();
  bool stopping() const { return stopping_; }
  // Stops accepting, lets each connection finish its current request and
  // close, and waits up to graceSeconds for them.
  void stop(int graceSeconds = 5);

 private:
  struct Listener;  // the Poco objects (https_server.cpp)

  ListenerOptions options_;
  const auth::ClientRecheck& recheck_;
  const RequestGate& gate_;
  audit::AuditSink& audit_;
  Counters& counters_;
  const ReplySigner* signer_;
  std::atomic<bool> stopping_{false};
  std::unique_ptr<Listener> listener_;
};

}  // namespace hie::exchange

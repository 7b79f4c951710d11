// A peer node whose every answer the test writes, for tests of the outbound
// client: a real TLS server on 127.0.0.1 (certificate from the test PKI) that
// reads one request per connection (head and Content-Length body), hands it
// to the test's function (with the client certificate it presented, which
// is asked for and not judged) and sends back the raw HTTP answer it returns ("" =
// close without answering), then closes the connection. One connection at a
// time; the destructor stops and joins the thread.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "auth/identity/peer_identity.h"
#include "auth/signatures/http_signature.h"
#include "common/ossl.h"
#include "tests/support/test_pki.h"

namespace hie::testing {

struct ReceivedRequest {
  std::string method;
  std::string target;   // the request-target as sent
  auth::FieldList fields;  // header fields in order, names as sent
  std::string body;
  auth::PeerIdentity client;  // the client certificate of the handshake (any is accepted; none: empty)
  // As RFC 9421 sees it: @target-uri = "https://" + Host + target.
  auth::HttpMessage message() const;
};

class ScriptedTlsPeer {
 public:
  using Script = std::function<std::string(const ReceivedRequest&)>;

  // server: the leaf the peer presents (sent with intermediate).
  ScriptedTlsPeer(const Credential& server, const Credential& intermediate, Script script);
  ~ScriptedTlsPeer();
  ScriptedTlsPeer(const ScriptedTlsPeer&) = delete;
  ScriptedTlsPeer& operator=(const ScriptedTlsPeer&) = delete;

  int port() const { return port_; }
  std::vector<ReceivedRequest> received() const;

 private:
  void run();
  void serve(int fd);

  Script script_;
  ossl::UniquePtr<SSL_CTX> ctx_;
  int listenFd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<ReceivedRequest> received_;
  std::thread thread_;  // last: starts once everything above exists
};

// A raw HTTP/1.1 answer with Content-Length and Connection: close, the fields in order.
std::string httpAnswer(int status, const auth::FieldList& fields, const std::string& body);

}  // namespace hie::testing

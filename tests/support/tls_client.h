// A real TLS client for tests (OpenSSL directly): connects to 127.0.0.1,
// presents an optional client certificate chain, sends raw HTTP/1.1 and
// reports whether the refusal came in the handshake or as an HTTP status.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/test_pki.h"

namespace hie::testing {

struct ClientIdentity {
  const Credential* leaf = nullptr;               // nullptr = no client certificate
  std::vector<const Credential*> chain;           // extra certificates sent after the leaf
};

struct TlsClientOptions {
  int minVersion = 0;  // e.g. TLS1_2_VERSION; 0 = library default
  int maxVersion = 0;
  int securityLevel = -1;  // -1 = library default; 0 lets the client offer weak keys
  int timeoutSeconds = 10;
  bool noDelay = false;  // TCP_NODELAY on the socket (KeepAliveConnection), as most HTTP clients set it
};

struct HttpResult {
  bool tlsRefused = false;     // the TLS layer failed (alert, reset) before any HTTP response
  std::string tlsError;        // OpenSSL's error text when tlsRefused
  int status = 0;              // HTTP status, 0 when none
  std::string head;            // status line and headers
  std::string body;
  std::string serverCertSha256;  // lowercase hex, of the certificate the server presented
  std::chrono::milliseconds answeredAfter{0};  // from sending the request (handshake done) to the end of the answer

  std::string header(const std::string& name) const;  // case-insensitive, "" if absent
};

// Sends `request` verbatim (must be a complete HTTP/1.1 request) and reads until close.
HttpResult tlsExchange(int port, const Credential& trustRoot, const ClientIdentity& client,
                       const std::string& request, const TlsClientOptions& options = {});

// GET path with Connection: close and optional extra header lines ("Name: value").
HttpResult tlsGet(int port, const Credential& trustRoot, const ClientIdentity& client, const std::string& path,
                  const std::vector<std::string>& extraHeaders = {}, const TlsClientOptions& options = {});

// A TLS session the client saved to resume later (opaque; copies share it).
struct SavedSession {
  std::shared_ptr<void> handle;  // SSL_SESSION
  explicit operator bool() const { return handle != nullptr; }
};

// One TLS connection kept open across HTTP/1.1 keep-alive requests, that can
// offer a saved session to resume. The handshake runs in the constructor;
// a refusal there (or, in TLS 1.3, at the first read) shows in the results.
class KeepAliveConnection {
 public:
  KeepAliveConnection(int port, const Credential& trustRoot, const ClientIdentity& client,
                      const SavedSession& resume = {}, const TlsClientOptions& options = {});
  ~KeepAliveConnection();
  KeepAliveConnection(const KeepAliveConnection&) = delete;
  KeepAliveConnection& operator=(const KeepAliveConnection&) = delete;

  bool connected() const { return connected_; }  // the client's side of the handshake completed
  bool resumed() const;                           // the server took the offered session
  // GET path, keeping the connection open; reads one response (Content-Length framed).
  // tlsRefused when the connection failed or closed before a complete response.
  HttpResult get(const std::string& path = "/fhir/metadata", const std::vector<std::string>& extraHeaders = {});
  // METHOD path with `body` (Content-Length given when it is not empty), keeping the connection open.
  HttpResult send(const std::string& method, const std::string& path, const std::vector<std::string>& extraHeaders,
                  const std::string& body);
  // The session to resume later; in TLS 1.3 it arrives after the handshake, so call after a response.
  SavedSession session() const;
  // True when the server closes the connection (or it is already gone) within `within`.
  bool closedByServer(std::chrono::milliseconds within);

 private:
  struct State;
  std::unique_ptr<State> state_;
  bool connected_ = false;
  std::string error_;
};

}  // namespace hie::testing

namespace hie::testing {

// A plain TCP connection to 127.0.0.1:port that sends nothing.
class RawConnection {
 public:
  explicit RawConnection(int port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  // Sends bytes as they are; false if the connection is gone.
  bool send(const std::string& bytes);
  // True when the server closes (or resets) the connection within `within`.
  bool closedByServer(std::chrono::milliseconds within);

 private:
  int fd_ = -1;
};

// Completes a TLS handshake as `client`, then sends nothing. True when the
// server closes the connection within `within`.
bool tlsIdleConnectionIsCut(int port, const Credential& trustRoot, const ClientIdentity& client,
                            std::chrono::milliseconds within);

struct TrickleOutcome {
  bool connected = false;   // the handshake completed (false: the server dropped or refused the connection)
  bool cut = false;         // the server closed the connection (or answered) before `within` passed
  std::size_t bytesSent = 0;
  int status = 0;           // HTTP status of any answer before the close, 0 when none
};

// Slowloris: completes a TLS handshake as `client`, then sends `bytes` one
// byte at a time, about `gap` apart, watching for the server to answer or
// close. Gives up after `within`. `connected`, if given, is incremented once
// the handshake completes.
TrickleOutcome tlsTrickle(int port, const Credential& trustRoot, const ClientIdentity& client,
                          const std::string& bytes, std::chrono::milliseconds gap, std::chrono::milliseconds within,
                          std::atomic<int>* connected = nullptr);

}  // namespace hie::testing

// OCSP for client certificates (tls.ocsp = require | prefer | off): during
// the handshake, and when a connection's client is checked again (see
// client_standing.h), the leaf's status is asked of the responder its
// authorityInfoAccess names, over plain HTTP as OCSP is, with a short
// timeout. Answers are cached until their nextUpdate. `require` refuses a
// client whose status cannot be learned; `prefer` lets it in and logs. An
// answer that newly says revoked flushes the server's TLS session cache.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <string>

#include <openssl/ssl.h>

#include "auth/tls/ocsp_mode.h"
#include "common/counters.h"

namespace hie::auth {

class OcspChecker {
 public:
  OcspChecker(OcspMode mode, std::chrono::milliseconds timeout, Counters& counters);

  enum class Verdict { kGood, kRevoked, kUnknown };
  static constexpr std::int64_t kNoLimit = std::numeric_limits<std::int64_t>::max();
  struct Status {
    Verdict verdict = Verdict::kUnknown;
    // Seconds since the epoch until which the verdict holds: the answer's nextUpdate,
    // or the time of the answer when it has none (it holds only then). kNoLimit when no
    // answer bounds it: the certificate names no responder, or the status is unknown.
    std::int64_t validUntil = kNoLimit;
  };
  // For the verify callback: leaf and issuer of a chain that already verified;
  // store is the trust store used to check the responder's signature.
  Status check(X509* leaf, X509* issuer, X509_STORE* store, STACK_OF(X509) * chain, std::string& detail);
  OcspMode mode() const { return mode_; }

  // Makes this checker the one the server context's verify callback consults,
  // and the context whose session cache a newly revoked answer flushes.
  void attachTo(SSL_CTX* serverContext);
  // Makes this checker the one consulted by a verification outside a handshake.
  void attachTo(X509_STORE_CTX* verification);
  // The checker of a handshake's SSL, or of a verification (either attachTo); nullptr when none.
  static OcspChecker* of(SSL* ssl);
  static OcspChecker* of(X509_STORE_CTX* verification);

 private:
  struct Cached {
    Verdict verdict = Verdict::kUnknown;
    std::int64_t nextUpdate = 0;  // seconds since the epoch; the time of the answer when it had none
  };
  OcspMode mode_;
  std::chrono::milliseconds timeout_;
  Counters& counters_;
  SSL_CTX* serverContext_ = nullptr;  // set once at startup, before any handshake
  std::mutex mutex_;
  std::map<std::string, Cached> cache_;  // by DER CertID
};

}  // namespace hie::auth

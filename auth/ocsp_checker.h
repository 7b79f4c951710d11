// OCSP for client certificates (tls.ocsp = require | prefer | off): during
// the handshake the leaf's status is asked of the responder its
// authorityInfoAccess names, over plain HTTP as OCSP is, with a short
// timeout. Answers are cached until their nextUpdate. `require` refuses a
// client whose status cannot be learned; `prefer` lets it in and logs.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include <openssl/ssl.h>

#include "common/counters.h"

namespace hie::auth {

enum class OcspMode { kOff, kPrefer, kRequire };
bool parseOcspMode(const std::string& text, OcspMode& out);

class OcspChecker {
 public:
  OcspChecker(OcspMode mode, std::chrono::milliseconds timeout, Counters& counters);

  enum class Verdict { kGood, kRevoked, kUnknown };
  // For the verify callback: leaf and issuer of a chain that already verified;
  // store is the trust store used to check the responder's signature.
  Verdict check(X509* leaf, X509* issuer, X509_STORE* store, STACK_OF(X509) * chain, std::string& detail);
  OcspMode mode() const { return mode_; }

  // Makes this checker the one the server context's verify callback consults.
  void attachTo(SSL_CTX* serverContext);
  static OcspChecker* of(SSL* ssl);

 private:
  struct Cached {
    Verdict verdict;
    std::int64_t nextUpdate;  // seconds since the epoch
  };
  OcspMode mode_;
  std::chrono::milliseconds timeout_;
  Counters& counters_;
  std::mutex mutex_;
  std::map<std::string, Cached> cache_;  // by DER CertID
};

}  // namespace hie::auth

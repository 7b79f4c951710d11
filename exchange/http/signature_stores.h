// What verifying signed requests needs to remember, shared by every process
// of the node: the nonces of accepted requests (a replay within the window is
// refused) and the certificate chains that signed them (so that an audit
// entry's signature can be checked later). Implementations: pg_nonce_registry.h,
// pg_certificate_archive.h; fakes in tests.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace hie::exchange {

class NonceRegistry {
 public:
  virtual ~NonceRegistry() = default;
  // Remembers (keyId, nonce) until rememberUntil (seconds since the epoch). true: first seen;
  // false: already remembered (a replay). An error when the store cannot answer: the caller
  // fails closed. now: the caller's clock, for pruning expired nonces. Thread-safe.
  virtual Result<bool> remember(const std::string& keyId, const std::string& nonce, std::int64_t rememberUntil,
                                std::int64_t now) = 0;
};

class CertificateArchive {
 public:
  virtual ~CertificateArchive() = default;
  // Keeps chainPem (PEM, leaf first) under sha256 (lowercase hex SHA-256 of the leaf's DER) unless
  // a chain is already kept under it; append-only. An error when the store cannot answer. Thread-safe.
  virtual Result<void> keep(const std::string& sha256, const std::string& chainPem) = 0;
};

}  // namespace hie::exchange

// A certificate and key that sign HTTP messages in tests: EC P-256 or RSA 2048 leaves of the test
// PKI, or an EC P-384 or Ed25519 leaf issued by its intermediate. Throws std::runtime_error on failure.
#pragma once

#include <string>

#include "tests/support/test_pki.h"

namespace hie::testing {

enum class SignerKey { kEcP256, kRsa2048, kEd25519, kEcP384 };

struct SigningIdentity {
  std::string keyPem;   // unencrypted PKCS#8
  std::string certPem;  // the leaf only
  std::string certDer;
  std::string spkiDer;  // what PeerIdentity::publicKeyDer holds
  std::string keyId;    // lowercase hex SHA-256 of certDer

  static SigningIdentity issue(const TestPki& pki, SignerKey key, const std::string& commonName = "signer");
};

}  // namespace hie::testing

// Reads a PeerIdentity out of an X.509 certificate. The certificate must
// already be verified; this only extracts, it never judges trust.
#pragma once

#include <string>

#include <openssl/x509.h>

#include "auth/identity/peer_identity.h"
#include "common/ossl.h"
#include "common/result.h"

namespace hie::auth {

// Fails (kInvalidInput) only when the certificate is structurally unusable,
// e.g. a malformed subjectAltName extension.
Result<PeerIdentity> extractIdentity(const X509* certificate);

// Lowercase hex SHA-256 over the certificate's DER encoding.
Result<std::string> certificateSha256(const X509* certificate);

// Parses exactly one PEM certificate from text; anything else is kInvalidInput.
Result<ossl::UniquePtr<X509>> parseCertificatePem(const std::string& pem);

// Parses every PEM certificate in text (at least one), in order.
Result<ossl::X509Stack> parseCertificateChainPem(const std::string& pem);

}  // namespace hie::auth

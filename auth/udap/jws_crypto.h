// Adapter: signs and verifies compact JWS (jws.h) with OpenSSL keys. A
// signature verifies only with a key of the algorithm's type: RSA of at least
// 2048 bits for RS256/RS384, EC P-256 for ES256, EC P-384 for ES384; an ES
// signature is exactly 64 or 96 bytes (r||s). A JWS names its key by the
// x5c leaf; the chain and the identity behind it are the caller's to check.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "auth/udap/jws.h"
#include "common/ossl.h"
#include "common/result.h"

namespace hie::auth::udap {

// nullopt when jws.signature verifies with key for jws.algorithm; else jws_key_mismatch or jws_signature.
std::optional<JwsRefusal> verifyJwsSignature(const ParsedJws& jws, EVP_PKEY* key);

// The x5c leaf (jws.x5cDer[0]) decoded, and the rest as an untrusted stack; jws_x5c_not_der when an
// entry is not exactly one DER certificate.
struct X5cChain {
  ossl::UniquePtr<X509> leaf;
  ossl::X509Stack untrusted;  // jws.x5cDer[1..], in order
};
tl::expected<X5cChain, JwsRefusal> decodeX5c(const ParsedJws& jws);

// nullopt when the x5c leaf may sign a JWS as far as its keyUsage goes: no keyUsage extension, or one
// that includes digitalSignature (RFC 5280 4.2.1.3). Else x5c_key_usage (also for a keyUsage
// extension OpenSSL cannot decode). The caller maps it to its endpoint's error.
std::optional<JwsRefusal> checkSigningKeyUsage(X509* leaf);

// The algorithm a key signs with: RSA (>= 2048 bits) -> RS256, EC P-256 -> ES256, EC P-384 -> ES384;
// kInvalidInput for any other key (Ed25519 is not allowed by UDAP).
Result<JwsAlgorithm> algorithmForKey(EVP_PKEY* key);

// Signs claimsJson (a JSON object text) with key: header {"alg", "typ" (omitted when ""), "x5c"} with
// x5c = base64 (RFC 4648 section 4, padded, as RFC 7515 4.1.6 says) of each DER certificate, leaf first.
Result<std::string> signJws(EVP_PKEY* key, const std::vector<std::string>& x5cDer, const std::string& typ,
                            const std::string& claimsJson);

// Signs with a header that has no x5c (the node's own access tokens): {"alg","typ","kid"} (kid omitted when "").
Result<std::string> signJwsWithoutX5c(EVP_PKEY* key, const std::string& typ, const std::string& kid,
                                      const std::string& claimsJson);

// DER of cert, for x5c.
std::string certificateDer(X509* cert);

// base64url(SHA-256(DER of cert)) without padding: RFC 8705's x5t#S256.
std::string certificateThumbprintS256(X509* cert);

}  // namespace hie::auth::udap

// Compact JWS (RFC 7515) as UDAP uses it (HL7 UDAP Security IG, general.md
// section 7.1): three base64url parts, a JSON object header with `alg` and an
// `x5c` certificate chain, a JSON object payload. Parsing is strict and
// bounded: nothing past the limits is decoded, duplicate JSON keys, `crit`,
// padding, non-canonical base64url and any algorithm but the four below are
// refused. Parsing checks no signature: see jws_crypto.h. Pure.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <tl/expected.hpp>

namespace hie::auth::udap {

// The only algorithms accepted or produced. RS* = RSASSA-PKCS1-v1_5 (RFC 7518 3.3), ES* = ECDSA with
// the JOSE r||s signature form (RFC 7518 3.4). `none`, HS*, PS*, EdDSA are refused.
enum class JwsAlgorithm { kRS256, kRS384, kES256, kES384 };

// "RS256", ...
const char* jwsAlgorithmName(JwsAlgorithm algorithm);

struct JwsLimits {
  std::size_t maxCompactBytes = 32768;    // the whole compact serialization
  std::size_t maxX5cEntries = 5;          // leaf and intermediates
  std::size_t maxCertificateBytes = 8192; // one x5c entry, DER
  bool requireX5c = true;                 // false only for the node's own access tokens (no x5c)
};

// Why a JWS (or a claim in it) was refused. reason: a stable snake_case word for logs, counters and the
// audit (jws_malformed, jws_too_large, jws_base64url, jws_json, jws_duplicate_key, jws_crit,
// jws_algorithm, jws_x5c_missing, jws_x5c_too_many, jws_x5c_too_large, jws_x5c_not_der, jws_key_mismatch,
// jws_signature, ...). detail: one sentence, safe to show to the caller (no key material, no patient data).
struct JwsRefusal {
  std::string reason;
  std::string detail;
  // Access tokens only (verifyAccessToken, the gate's verifier): the client_id of a token whose
  // signature verified (this node issued it) but that is refused on its claims, so that the
  // refusal's audit entry can name it; "" otherwise.
  std::string clientId = {};
};

struct ParsedJws {
  JwsAlgorithm algorithm = JwsAlgorithm::kRS256;
  std::string signingInput;          // the first two parts as received, with their '.'
  std::string signature;             // raw signature bytes (ES*: r||s, 64 or 96 bytes)
  std::string headerJson;            // decoded header: a JSON object without duplicate keys
  std::string claimsJson;            // decoded payload: a JSON object without duplicate keys
  std::string typ;                   // the header's "typ", "" when absent
  std::vector<std::string> x5cDer;   // the header's x5c, DER, leaf first; never empty when requireX5c
};

// Parses compact; every malformed, oversized or disallowed token is a JwsRefusal.
tl::expected<ParsedJws, JwsRefusal> parseJws(const std::string& compact, const JwsLimits& limits = JwsLimits{});

// The compact serialization of header and claims (both JSON object texts) with the given raw signature.
std::string compactJws(const std::string& headerJson, const std::string& claimsJson, const std::string& signature);

}  // namespace hie::auth::udap

// libFuzzer target: a UDAP JWT as a client sends it (software statement, client assertion) and an
// access token as a Bearer sends it. The input is the compact serialization: parseJws (with and
// without x5c required), verifyJwsSignature against a fixed key made at startup, decodeX5c,
// checkSoftwareStatement and checkClientAssertion on the claims, verifyAccessToken. Invariants:
// a token that parses has one of the four algorithms, re-serializes to exactly the input (only
// canonical base64url is read), stays within the limits, and never verifies with the fixed key
// (nothing the fuzzer writes is signed by it); an access token is never accepted.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "auth/udap/access_token.h"
#include "auth/udap/jws.h"
#include "auth/udap/jws_crypto.h"
#include "auth/udap/udap_claims.h"
#include "common/ossl.h"

namespace {

using namespace hie;
using namespace hie::auth::udap;

constexpr std::int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z: the seeds are valid around it

EVP_PKEY* fixedKey() {
  static ossl::UniquePtr<EVP_PKEY> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  return key.get();
}

EVP_PKEY* fixedRsaKey() {
  static ossl::UniquePtr<EVP_PKEY> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048)));
  return key.get();
}

void check(bool condition) {
  if (!condition) std::abort();
}

void exercise(const std::string& input, const JwsLimits& limits) {
  auto jws = parseJws(input, limits);
  if (!jws) {
    check(!jws.error().reason.empty());
    return;
  }
  const JwsAlgorithm a = jws->algorithm;
  check(a == JwsAlgorithm::kRS256 || a == JwsAlgorithm::kRS384 || a == JwsAlgorithm::kES256 ||
        a == JwsAlgorithm::kES384);
  check(input.size() <= limits.maxCompactBytes);
  check(jws->x5cDer.size() <= limits.maxX5cEntries);
  check(!limits.requireX5c || !jws->x5cDer.empty());
  for (const std::string& der : jws->x5cDer) check(der.size() <= limits.maxCertificateBytes);
  check(compactJws(jws->headerJson, jws->claimsJson, jws->signature) == input);
  check(jws->signingInput == input.substr(0, input.rfind('.')));

  check(verifyJwsSignature(*jws, fixedKey()).has_value());
  check(verifyJwsSignature(*jws, fixedRsaKey()).has_value());
  auto chain = decodeX5c(*jws);
  if (chain) check(chain->leaf != nullptr);

  auto statement = checkSoftwareStatement(jws->claimsJson, "https://node-a.example.org/oauth/register", kNow);
  if (statement) check(statement->iss.size() > 0 && statement->times.exp > kNow);
  auto assertion = checkClientAssertion(jws->claimsJson, "https://node-a.example.org/oauth/token", kNow);
  if (assertion && assertion->b2b) check(!assertion->b2b->purposeOfUse.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 40000) return 0;
  const std::string input(reinterpret_cast<const char*>(data), size);
  exercise(input, JwsLimits{});
  JwsLimits noX5c;
  noX5c.requireX5c = false;
  exercise(input, noX5c);
  auto token = verifyAccessToken(input, "https://node-a.example.org/fhir", kNow, fixedKey(), fixedRsaKey());
  check(!token);
  // The claim checks on raw text too (they are public functions; a caller may hand them anything).
  (void)checkSoftwareStatement(input, "https://node-a.example.org/oauth/register", kNow);
  (void)checkClientAssertion(input, "https://node-a.example.org/oauth/token", kNow);
  return 0;
}

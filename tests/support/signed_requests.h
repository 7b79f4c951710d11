// Signing requests as a peer does (RFC 9421, docs/api.md "Signed requests and
// answers"), for tests: with auth::signRequest, or by hand with any components
// and parameters a refusal case needs. Throws std::runtime_error on failure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "auth/signatures/exchange_signatures.h"
#include "tests/support/test_pki.h"

namespace hie::testing {

struct RequestToSign {
  std::string method = "GET";
  std::string target;              // path and query as sent
  std::string host = "localhost";  // the Host field tlsGet sends
  std::vector<std::pair<std::string, std::string>> fields;  // sent and signable: X-Request-Id, X-Purpose-Of-Use, ...
  // Empty: exactly what auth::signRequest covers, with its parameters. Otherwise these components
  // (and the parameters below), signed by hand.
  std::vector<std::string> components;
  std::int64_t created = 0;                // 0 = now
  std::optional<std::int64_t> expires;     // hand-signed: default created + 60; set to -1 to leave it out
  std::string nonce = "fresh";             // hand-signed: "fresh" = random, "" = none
  std::string keyId;                       // hand-signed: "" = the signer's
};

struct SignedRequest {
  std::vector<std::string> headerLines;    // "Name: value": the fields, then Signature-Input and Signature
  auth::SignatureEvidence evidence;        // base and raw signature
};

// Signs with the key of signer (its certificate's keyid).
SignedRequest signRequestAs(const Credential& signer, const RequestToSign& request);

// The same header lines with one byte of the Signature's value flipped (still valid base64).
std::vector<std::string> withFlippedSignatureByte(std::vector<std::string> headerLines);

// Decodes the audit's %XX string encoding (docs/audit-format.md, "Strings").
std::string auditDecoded(const std::string& encoded);

}  // namespace hie::testing

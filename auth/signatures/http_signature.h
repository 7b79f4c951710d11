// HTTP Message Signatures (RFC 9421) and Content-Digest (RFC 9530) as the
// node uses them: the message model, signature parameters, the signature
// base, and the structured-field pieces (RFC 8941) those need. Pure: no
// sockets, no OpenSSL (keys are in message_key.h). docs/api.md, "Signed
// requests and answers", is the normative description.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace hie::auth {

using FieldList = std::vector<std::pair<std::string, std::string>>;  // name (any case), value; lines in order

// A request or a response as RFC 9421 sees it.
struct HttpMessage {
  // Request: "@method" and "@target-uri" (absolute: https://authority/path?query, exactly as the
  // client sent path and query, not decoded). Response: status (0 for a request).
  std::string method;
  std::string targetUri;
  int status = 0;
  FieldList fields;  // header fields; several lines of one name are joined with ", " (RFC 9421 2.1)
};

// One covered component: "@method", "x-request-id", "signature";req;key="sig1", "@query-param";name="x".
struct ComponentId {
  std::string name;       // lower case; derived components start with '@'
  bool req = false;       // taken from the request a response answers (RFC 9421 2.4)
  std::string key;        // dictionary member (the "key" parameter), "" for the whole field
  std::string paramName;  // "@query-param" only: the "name" parameter
  bool sf = false;        // the "sf" flag: re-serialise the field as a structured field
  // Parameter names as received (RFC 9421 2: their order is kept); empty = the order req, key, name, sf.
  std::vector<std::string> order;
  std::string serialize() const;  // as in the inner list: "name";req;key="sig1"
  bool operator==(const ComponentId& other) const;  // same name and parameters, in any order
};

// The signature parameters (RFC 9421 2.3): the inner list of components and its parameters,
// serialised in the order created, expires, nonce, alg, keyid, tag (the order this node
// writes; a received list keeps the order it came in, see `order`).
struct SignatureParams {
  std::vector<ComponentId> components;
  std::optional<std::int64_t> created;
  std::optional<std::int64_t> expires;
  std::optional<std::string> nonce;
  std::optional<std::string> alg;
  std::optional<std::string> keyid;
  std::optional<std::string> tag;
  std::vector<std::string> order;  // parameter names as received ("" = the default order above)
  std::string serialize() const;   // the value of "@signature-params" and of a Signature-Input member
  bool covers(const std::string& componentName) const;  // a component of that name, without req or key
};

// One signature of a message: a member of Signature-Input and its partner in Signature.
struct MessageSignature {
  std::string label;       // the dictionary key, e.g. "sig1"
  SignatureParams params;
  std::string signature;   // the raw signature bytes (decoded from the byte sequence)
  // The Signature member's value as serialised, ":<base64>:"; what a response covers with
  // "signature";req;key="<label>".
  std::string signatureField() const;
};

// The longest Signature-Input, Signature or Content-Digest value (all lines joined) that is parsed;
// a longer one is refused before parsing (parseSignatures: kInvalidInput; checkContentDigest:
// kMalformed). 8192 bytes hold 16 signatures of 64 components, or 11 RSA-4096 signatures.
inline constexpr std::size_t kMaxSignatureFieldBytes = 8192;

// A header field of fields, its lines combined as RFC 9421 section 2.1 does: each line trimmed of
// spaces and tabs, obs-fold made one space, the lines joined with ", ". Names compare
// case-insensitively (name in any case). nullopt when the field is absent.
std::optional<std::string> combinedField(const FieldList& fields, const std::string& name);
bool hasField(const FieldList& fields, const std::string& name);

// Parses the Signature-Input and Signature fields (all lines of each, joined) into their
// signatures, in Signature-Input order. A label in one and not the other, a malformed
// dictionary, an unknown component parameter, a field longer than kMaxSignatureFieldBytes:
// kInvalidInput naming the problem.
Result<std::vector<MessageSignature>> parseSignatures(const std::string& signatureInput,
                                                      const std::string& signature);

// The signature base (RFC 9421 2.5) of message for params: one line per component, then
// "@signature-params". request: the request a response answers, for components with `req`
// (null when there is none: a `req` component then fails). A component the message lacks, a
// duplicate component, or an unsupported one: kInvalidInput naming it.
Result<std::string> signatureBase(const HttpMessage& message, const HttpMessage* request, const SignatureParams& params);

// The Signature-Input and Signature field values for one signature: `label=(...);created=...`
// and `label=:<base64>:`.
std::string signatureInputField(const std::string& label, const SignatureParams& params);
std::string signatureField(const std::string& label, const std::string& rawSignature);

// Content-Digest (RFC 9530).
std::string contentDigestField(const std::string& body);  // "sha-256=:<base64>:"
enum class DigestCheck { kMatches, kMismatch, kNoKnownAlgorithm, kMalformed };
// Every sha-256 and sha-512 member present must match the body; at least one must be present. A field
// longer than kMaxSignatureFieldBytes is kMalformed.
DigestCheck checkContentDigest(const std::string& field, const std::string& body);

}  // namespace hie::auth

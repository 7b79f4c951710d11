// The node's rules for signed requests and signed answers between
// institutions (docs/api.md, "Signed requests and answers"), on top of RFC
// 9421: what a request must cover, the time window, how the key is bound to
// the TLS identity, and what an answer covers. Pure apart from the keys;
// replayed nonces are the caller's check (they need shared state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "auth/signatures/http_signature.h"
#include "auth/signatures/message_key.h"

namespace hie::auth {

// The label this node signs under, in requests and answers.
inline constexpr const char* kSignatureLabel = "sig1";
// A request's signature is valid for this long after `created` (its `expires`).
inline constexpr std::int64_t kRequestSignatureLifetime = 60;

// What a signed message carries besides the signature, and what the audit keeps of it.
struct SignatureEvidence {
  std::string label;       // "sig1"
  std::string base;        // the exact signature base that was signed
  std::string signature;   // raw signature bytes
  std::string keyId;       // the signer's certificate SHA-256 (lowercase hex)
  std::string algorithm;   // "ecdsa-p256-sha256" | "rsa-pss-sha512" | "ed25519"
  std::string signatureField() const;  // ":<base64>:"
};

// Fields to add to a request, and the evidence of its signature.
struct SignedFields {
  FieldList fields;  // Content-Digest (when there is a body), Signature-Input, Signature
  SignatureEvidence evidence;
};

// Signs a request: covers "@method" "@target-uri", then "x-purpose-of-use" when request.fields has
// it, "x-request-id" (which it must have), and "content-digest" when body is non-null (a digest of
// *body is added to the fields and covered); created = now, expires = now + kRequestSignatureLifetime,
// a fresh random nonce (128 bits, base64url), keyid and alg of the key.
Result<SignedFields> signRequest(const MessageSigningKey& key, const HttpMessage& request, const std::string* body,
                                 std::int64_t now);

struct SignatureWindow {
  std::int64_t now = 0;
  std::int64_t maxAge = 300;    // created may be at most this many seconds old
  std::int64_t clockSkew = 30;  // created may be this far in the future; expires this far in the past
};

// Why a signed request or answer was refused: reason is one of signature_malformed,
// signature_components_missing, signature_key_mismatch, signature_algorithm, signature_invalid,
// signature_expired, signature_not_yet_valid, signature_nonce_missing, content_digest_mismatch,
// content_digest_missing, signature_missing. detail is one sentence, safe to show the signer.
struct SignatureRefusal {
  std::string reason;
  std::string detail;
};

// The reasons, as constants (the WWW-Authenticate error and the audit's outcomeReason).
namespace refusal {
inline constexpr const char* kSignatureMalformed = "signature_malformed";
inline constexpr const char* kComponentsMissing = "signature_components_missing";
inline constexpr const char* kKeyMismatch = "signature_key_mismatch";
inline constexpr const char* kAlgorithm = "signature_algorithm";
inline constexpr const char* kSignatureInvalid = "signature_invalid";
inline constexpr const char* kExpired = "signature_expired";
inline constexpr const char* kNotYetValid = "signature_not_yet_valid";
inline constexpr const char* kNonceMissing = "signature_nonce_missing";
inline constexpr const char* kDigestMismatch = "content_digest_mismatch";
inline constexpr const char* kDigestMissing = "content_digest_missing";
inline constexpr const char* kSignatureMissing = "signature_missing";
}  // namespace refusal

// The refusal of an unsigned message where the policy requires a signature (verifyRequest and
// verifyResponse return std::nullopt for it; the caller applies the policy).
SignatureRefusal signatureMissing();

struct VerifiedRequest {
  SignatureEvidence evidence;
  std::string nonce;
  std::int64_t created = 0;
  std::int64_t rememberUntil = 0;  // keep the nonce until then: later, `created` alone refuses it
};

// Verifies the request's signature against the public key of the certificate the TLS handshake
// presented (spkiDer, certSha256). Among several signatures the one whose keyid equals certSha256
// is checked (none: signature_key_mismatch). It must cover "@method", "@target-uri",
// "x-request-id", "x-purpose-of-use" when the request has that field, and "content-digest" when
// body is non-empty (and the digest must match); carry created (within the window), a nonce, and
// expires when present not past; alg, when present, must be the key's. No signature at all:
// std::nullopt (the caller's policy decides).
tl::expected<std::optional<VerifiedRequest>, SignatureRefusal> verifyRequest(const HttpMessage& request,
                                                                             const std::string& body,
                                                                             const std::string& spkiDer,
                                                                             const std::string& certSha256,
                                                                             const SignatureWindow& window);

// Signs an answer: covers "@status", "content-digest" (added, over body), "x-request-id" (which
// the response must have), and, when the request was signed, "signature";req;key="<label>" of the
// request's verified signature; created = now, keyid and alg of the key.
Result<SignedFields> signResponse(const MessageSigningKey& key, const HttpMessage& response, const std::string& body,
                                  const HttpMessage& request, const SignatureEvidence* requestSignature,
                                  std::int64_t now);

// Verifies an answer against the public key of the server certificate of the connection it came on:
// content-digest must match body; the signature must cover "@status", "content-digest",
// "x-request-id", and "signature";req;key="<label>" when the request was signed (requestSignature
// non-null); keyid must be certSha256; created within the window. No signature: std::nullopt.
tl::expected<std::optional<SignatureEvidence>, SignatureRefusal> verifyResponse(
    const HttpMessage& response, const std::string& body, const HttpMessage& request,
    const SignatureEvidence* requestSignature, const std::string& spkiDer, const std::string& certSha256,
    const SignatureWindow& window);

}  // namespace hie::auth

#include "auth/signatures/exchange_signatures.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdlib>

#include "common/base64.h"

namespace hie::auth {
namespace {

constexpr std::size_t kNonceBytes = 16;
constexpr std::size_t kMaxNonce = 256;

// 128 random bits, base64url without padding.
std::string freshNonce() {
  unsigned char bytes[kNonceBytes];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();  // a broken CSPRNG is a broken invariant
  std::string text = base64Encode(std::string(reinterpret_cast<const char*>(bytes), sizeof bytes));
  for (char& c : text) c = c == '+' ? '-' : c == '/' ? '_' : c;
  text.erase(std::remove(text.begin(), text.end(), '='), text.end());
  return text;
}

ComponentId component(const std::string& name) {
  ComponentId id;
  id.name = name;
  return id;
}

ComponentId requestSignatureComponent(const std::string& label) {
  ComponentId id;
  id.name = "signature";
  id.req = true;
  id.key = label;
  return id;
}

tl::unexpected<SignatureRefusal> refuse(const char* reason, std::string detail) {
  return tl::make_unexpected(SignatureRefusal{reason, std::move(detail)});
}

Result<SignedFields> sign(const MessageSigningKey& key, const HttpMessage& message, const HttpMessage* request,
                          const SignatureParams& params, const std::string* contentDigest) {
  HttpMessage covered = message;
  if (contentDigest) covered.fields.emplace_back("Content-Digest", *contentDigest);
  auto base = signatureBase(covered, request, params);
  if (!base) return tl::make_unexpected(base.error());
  auto signature = key.sign(*base);
  if (!signature) return tl::make_unexpected(signature.error());
  SignedFields out;
  if (contentDigest) out.fields.emplace_back("Content-Digest", *contentDigest);
  out.fields.emplace_back("Signature-Input", signatureInputField(kSignatureLabel, params));
  out.fields.emplace_back("Signature", signatureField(kSignatureLabel, *signature));
  out.evidence = SignatureEvidence{kSignatureLabel, *base, *signature, key.keyId(), algorithmName(key.algorithm())};
  return out;
}

Result<void> checkUnsigned(const HttpMessage& message) {
  if (hasField(message.fields, "signature-input") || hasField(message.fields, "signature")) {
    return fail(ErrorCode::kInvalidInput, "the message already carries a signature");
  }
  if (hasField(message.fields, "content-digest")) {
    return fail(ErrorCode::kInvalidInput, "the message already carries a Content-Digest");
  }
  if (!hasField(message.fields, "x-request-id")) return fail(ErrorCode::kInvalidInput, "the message has no X-Request-Id");
  return {};
}

// What verifyRequest and verifyResponse share; the differences are in `rules`.
struct Rules {
  std::vector<ComponentId> required;
  bool digestRequired = false;  // a Content-Digest must be present (and covered)
  bool nonceRequired = false;
};

tl::expected<std::optional<SignatureEvidence>, SignatureRefusal> verifyMessage(
    const HttpMessage& message, const std::string& body, const HttpMessage* request, const Rules& rules,
    const std::string& spkiDer, const std::string& certSha256, const SignatureWindow& window,
    MessageSignature* chosenOut) {
  const auto input = combinedField(message.fields, "signature-input");
  const auto value = combinedField(message.fields, "signature");
  if (!input && !value) return std::nullopt;
  auto signatures = parseSignatures(input.value_or(""), value.value_or(""));
  if (!signatures) return refuse(refusal::kSignatureMalformed, signatures.error().external);
  if (signatures->empty()) return refuse(refusal::kSignatureMalformed, "the Signature-Input field is empty");

  // The signature made with the key of the certificate this connection presented; "sig1" first.
  const MessageSignature* chosen = nullptr;
  for (const auto& s : *signatures) {
    if (s.params.keyid != certSha256) continue;
    if (chosen == nullptr || s.label == kSignatureLabel) chosen = &s;
    if (s.label == kSignatureLabel) break;
  }
  if (chosen == nullptr) {
    return refuse(refusal::kKeyMismatch, "no signature has the keyid of the certificate this connection presented");
  }
  const SignatureParams& params = chosen->params;

  auto key = MessageVerifyingKey::fromSpki(spkiDer);
  if (!key) return refuse(refusal::kAlgorithm, "the certificate's key cannot verify message signatures");
  const std::string algorithm = algorithmName(key->algorithm());
  if (params.alg && *params.alg != algorithm) {
    return refuse(refusal::kAlgorithm, "alg is \"" + *params.alg + "\" but the certificate's key is " + algorithm);
  }

  const bool hasDigest = hasField(message.fields, "content-digest");
  if (rules.digestRequired && !hasDigest) return refuse(refusal::kDigestMissing, "the message has no Content-Digest");
  for (const auto& id : rules.required) {
    if (std::find(params.components.begin(), params.components.end(), id) == params.components.end()) {
      return refuse(refusal::kComponentsMissing, "the signature does not cover " + id.serialize());
    }
  }
  for (const auto& id : params.components) {
    const HttpMessage* context = id.req ? request : &message;
    if (!id.name.empty() && id.name[0] != '@' && context != nullptr && !hasField(context->fields, id.name)) {
      return refuse(refusal::kComponentsMissing, "the covered field " + id.serialize() + " is not in the message");
    }
  }

  if (!params.created) return refuse(refusal::kSignatureMalformed, "the signature has no created parameter");
  if (*params.created > window.now + window.clockSkew) {
    return refuse(refusal::kNotYetValid, "created is in the future");
  }
  if (*params.created < window.now - window.maxAge) return refuse(refusal::kExpired, "created is too old");
  if (params.expires) {
    if (*params.expires < *params.created) return refuse(refusal::kSignatureMalformed, "expires is before created");
    if (*params.expires < window.now - window.clockSkew) return refuse(refusal::kExpired, "the signature has expired");
  }
  if (rules.nonceRequired && (!params.nonce || params.nonce->empty())) {
    return refuse(refusal::kNonceMissing, "the signature has no nonce");
  }
  if (params.nonce && params.nonce->size() > kMaxNonce) {
    return refuse(refusal::kSignatureMalformed, "the nonce is longer than 256 characters");
  }

  if (hasDigest) {
    switch (checkContentDigest(combinedField(message.fields, "content-digest").value_or(""), body)) {
      case DigestCheck::kMatches:
        break;
      case DigestCheck::kMismatch:
        return refuse(refusal::kDigestMismatch, "the Content-Digest does not match the content");
      case DigestCheck::kNoKnownAlgorithm:
        return refuse(refusal::kDigestMissing, "the Content-Digest has no sha-256 or sha-512 member");
      case DigestCheck::kMalformed:
        return refuse(refusal::kSignatureMalformed, "the Content-Digest is malformed");
    }
  }

  auto base = signatureBase(message, request, params);
  if (!base) return refuse(refusal::kSignatureMalformed, base.error().external);
  if (!key->verify(*base, chosen->signature)) {
    return refuse(refusal::kSignatureInvalid, "the signature does not verify with the certificate's key");
  }
  if (chosenOut) *chosenOut = *chosen;
  return SignatureEvidence{chosen->label, *base, chosen->signature, certSha256, algorithm};
}

}  // namespace

std::string SignatureEvidence::signatureField() const { return ":" + base64Encode(signature) + ":"; }

SignatureRefusal signatureMissing() {
  return SignatureRefusal{refusal::kSignatureMissing, "this node requires a signature (RFC 9421) on this message"};
}

Result<SignedFields> signRequest(const MessageSigningKey& key, const HttpMessage& request, const std::string* body,
                                 std::int64_t now) {
  if (auto ok = checkUnsigned(request); !ok) return tl::make_unexpected(ok.error());
  SignatureParams params;
  params.components.push_back(component("@method"));
  params.components.push_back(component("@target-uri"));
  if (hasField(request.fields, "x-purpose-of-use")) params.components.push_back(component("x-purpose-of-use"));
  params.components.push_back(component("x-request-id"));
  std::optional<std::string> digest;
  if (body != nullptr) {
    digest = contentDigestField(*body);
    params.components.push_back(component("content-digest"));
  }
  params.created = now;
  params.expires = now + kRequestSignatureLifetime;
  params.nonce = freshNonce();
  params.alg = algorithmName(key.algorithm());
  params.keyid = key.keyId();
  return sign(key, request, nullptr, params, digest ? &*digest : nullptr);
}

tl::expected<std::optional<VerifiedRequest>, SignatureRefusal> verifyRequest(const HttpMessage& request,
                                                                             const std::string& body,
                                                                             const std::string& spkiDer,
                                                                             const std::string& certSha256,
                                                                             const SignatureWindow& window) {
  Rules rules;
  rules.required = {component("@method"), component("@target-uri"), component("x-request-id")};
  if (hasField(request.fields, "x-purpose-of-use")) rules.required.push_back(component("x-purpose-of-use"));
  if (!body.empty()) {
    rules.required.push_back(component("content-digest"));
    rules.digestRequired = true;
  }
  rules.nonceRequired = true;
  MessageSignature chosen;
  auto evidence = verifyMessage(request, body, nullptr, rules, spkiDer, certSha256, window, &chosen);
  if (!evidence) return tl::make_unexpected(evidence.error());
  if (!*evidence) return std::nullopt;
  VerifiedRequest out;
  out.evidence = std::move(**evidence);
  out.nonce = *chosen.params.nonce;
  out.created = *chosen.params.created;
  out.rememberUntil = out.created + window.maxAge + window.clockSkew;
  return out;
}

Result<SignedFields> signResponse(const MessageSigningKey& key, const HttpMessage& response, const std::string& body,
                                  const HttpMessage& request, const SignatureEvidence* requestSignature,
                                  std::int64_t now) {
  if (auto ok = checkUnsigned(response); !ok) return tl::make_unexpected(ok.error());
  if (response.status == 0) return fail(ErrorCode::kInvalidInput, "a response needs a status");
  SignatureParams params;
  params.components = {component("@status"), component("content-digest"), component("x-request-id")};
  if (requestSignature != nullptr) params.components.push_back(requestSignatureComponent(requestSignature->label));
  params.created = now;
  params.alg = algorithmName(key.algorithm());
  params.keyid = key.keyId();
  const std::string digest = contentDigestField(body);
  auto signed_ = sign(key, response, &request, params, &digest);
  if (!signed_) return signed_;
  if (requestSignature != nullptr) {
    // The request's Signature member must be the signature that was verified.
    const std::string line = requestSignatureComponent(requestSignature->label).serialize() + ": " +
                             requestSignature->signatureField() + "\n";
    if (signed_->evidence.base.find(line) == std::string::npos) {
      return fail(ErrorCode::kInvalidInput, "the request's Signature is not the verified one");
    }
  }
  return signed_;
}

tl::expected<std::optional<SignatureEvidence>, SignatureRefusal> verifyResponse(
    const HttpMessage& response, const std::string& body, const HttpMessage& request,
    const SignatureEvidence* requestSignature, const std::string& spkiDer, const std::string& certSha256,
    const SignatureWindow& window) {
  Rules rules;
  rules.required = {component("@status"), component("content-digest"), component("x-request-id")};
  if (requestSignature != nullptr) rules.required.push_back(requestSignatureComponent(requestSignature->label));
  rules.digestRequired = true;
  return verifyMessage(response, body, &request, rules, spkiDer, certSha256, window, nullptr);
}

}  // namespace hie::auth

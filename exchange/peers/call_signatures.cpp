#include "exchange/peers/call_signatures.h"

#include <vector>

namespace hie::exchange {
namespace {

// What the peer signed, as far as it can be rebuilt, for the audit entry of an answer whose
// signature was refused: the signature that claims the server certificate's keyid (else the
// one labelled sig1, else the first) and its base over this answer.
void keepClaimedSignature(const auth::HttpMessage& response, const auth::HttpMessage& request,
                          const std::string& certSha256, PeerCallSignatures& signatures) {
  auto parsed = auth::parseSignatures(auth::combinedField(response.fields, "signature-input").value_or(""),
                                      auth::combinedField(response.fields, "signature").value_or(""));
  if (!parsed || parsed->empty()) return;
  const auth::MessageSignature* chosen = nullptr;
  for (const auto& s : *parsed) {
    if (s.params.keyid && *s.params.keyid == certSha256) chosen = &s;
  }
  for (const auto& s : *parsed) {
    if (chosen == nullptr && s.label == auth::kSignatureLabel) chosen = &s;
  }
  if (chosen == nullptr) chosen = &parsed->front();
  auto base = auth::signatureBase(response, &request, chosen->params);
  if (!base) return;
  signatures.responseSignatureBase = *base;
  signatures.responseSignature = chosen->signature;
}

}  // namespace

auth::SignaturePolicy answerPolicy(auth::SignaturePolicy node, const auth::RegistrySnapshot* registry,
                                   const std::string& organization) {
  const auth::Organization* org = registry != nullptr ? registry->organization(organization) : nullptr;
  return auth::effectivePolicy(node, org != nullptr ? org->signaturePolicy : std::nullopt);
}

std::optional<PeerFailure> checkAnswer(auth::SignaturePolicy policy, const auth::HttpMessage& response,
                                       const std::string& body, const auth::HttpMessage& request,
                                       const auth::SignatureEvidence* requestSignature, const std::string& spkiDer,
                                       const std::string& certSha256, const auth::SignatureWindow& window,
                                       PeerCallSignatures& signatures) {
  signatures.responseSignatureBase.clear();
  signatures.responseSignature.clear();
  if (policy == auth::SignaturePolicy::kOff) {
    signatures.signatureCheck = "off";
    return std::nullopt;
  }
  auto verified = auth::verifyResponse(response, body, request, requestSignature, spkiDer, certSha256, window);
  if (!verified) {
    const auth::SignatureRefusal& refusal = verified.error();
    signatures.signatureCheck = refusal.reason;
    keepClaimedSignature(response, request, certSha256, signatures);
    return PeerFailure{"answer_" + refusal.reason,
                       "the peer's answer (HTTP " + std::to_string(response.status) +
                           ") failed its signature check: " + refusal.detail,
                       signatures};
  }
  if (!*verified) {
    if (policy == auth::SignaturePolicy::kRequire) {
      signatures.signatureCheck = "signature_missing";
      return PeerFailure{"answer_signature_missing",
                         "the peer's answer (HTTP " + std::to_string(response.status) +
                             ") carries no signature, and this node requires signed answers from it",
                         signatures};
    }
    // Unsigned, but a Content-Digest it sends must still match what arrived.
    const auto digestField = auth::combinedField(response.fields, "content-digest");
    const auth::DigestCheck digest =
        digestField ? auth::checkContentDigest(*digestField, body) : auth::DigestCheck::kNoKnownAlgorithm;
    if (digest == auth::DigestCheck::kMismatch || digest == auth::DigestCheck::kMalformed) {
      signatures.signatureCheck = "content_digest_mismatch";
      return PeerFailure{"answer_content_digest_mismatch",
                         "the peer's unsigned answer (HTTP " + std::to_string(response.status) +
                             ") does not match its Content-Digest",
                         signatures};
    }
    signatures.signatureCheck = "absent";
    return std::nullopt;
  }
  signatures.signatureCheck = "verified";
  signatures.responseSignatureBase = (*verified)->base;
  signatures.responseSignature = (*verified)->signature;
  return std::nullopt;
}

}  // namespace hie::exchange

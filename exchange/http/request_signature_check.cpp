#include "exchange/http/request_signature_check.h"

#include <ctime>

#include "exchange/fhir/operation_outcome.h"

namespace hie::exchange {
namespace {

HttpReply storeUnavailable(const Error& error) {
  HttpReply reply = operationOutcome(503, "transient", "The service is temporarily unavailable.");
  reply.refusalReason = "signature_store_unavailable";
  reply.internalError = error.internal;
  return reply;
}

RequestSignatureCheck::Outcome refused(const std::string& reason, const std::string& detail) {
  RequestSignatureCheck::Outcome out;
  out.signature.check = reason;
  out.refusal = signatureRefusal(reason, detail);
  return out;
}

}  // namespace

HttpReply signatureRefusal(const std::string& reason, const std::string& detail) {
  HttpReply reply = operationOutcome(401, "security", detail);
  reply.refusalReason = reason;
  // reason is one of the fixed signature_* names: nothing to quote in it.
  reply.headers.emplace_back("WWW-Authenticate", "HttpSignature realm=\"hie-node\", error=\"" + reason + "\"");
  reply.headers.emplace_back(
      "Accept-Signature",
      "sig1=(\"@method\" \"@target-uri\" \"x-purpose-of-use\" \"x-request-id\");created;expires;nonce;keyid");
  return reply;
}

RequestSignatureCheck::RequestSignatureCheck(const auth::SignatureSettings& settings, NonceRegistry& nonces,
                                             CertificateArchive& certificates, Counters& counters, Clock now)
    : settings_(settings),
      nonces_(nonces),
      certificates_(certificates),
      counters_(counters),
      now_(now ? std::move(now) : Clock([] { return static_cast<std::int64_t>(std::time(nullptr)); })) {}

RequestSignatureCheck::Outcome RequestSignatureCheck::check(const HttpCall& call, const auth::PeerIdentity& peer,
                                                            const auth::Organization& organization) const {
  Outcome out = decide(call, peer, organization);
  counters_.requestSignatureChecks.inc({out.signature.check});
  if (out.refusal) counters_.refusals.inc({"signature", out.refusal->refusalReason});
  return out;
}

RequestSignatureCheck::Outcome RequestSignatureCheck::decide(const HttpCall& call, const auth::PeerIdentity& peer,
                                                             const auth::Organization& organization) const {
  Outcome out;
  const auth::SignaturePolicy policy = auth::effectivePolicy(settings_.requests, organization.signaturePolicy);
  if (policy == auth::SignaturePolicy::kOff) {
    out.signature.check = "off";
    return out;
  }
  const auth::SignatureWindow window{now_(), static_cast<std::int64_t>(settings_.maxAge.count()),
                                     static_cast<std::int64_t>(settings_.clockSkew.count())};
  // Most requests carry no signature: no copy of the request for them.
  const bool signedRequest = !call.headerLines("Signature-Input").empty() || !call.headerLines("Signature").empty();
  auto verified = signedRequest ? auth::verifyRequest(requestMessage(call), call.body, peer.publicKeyDer,
                                                      peer.certSha256, window)
                                : tl::expected<std::optional<auth::VerifiedRequest>, auth::SignatureRefusal>(
                                      std::nullopt);
  if (!verified) return refused(verified.error().reason, verified.error().detail);
  if (!*verified) {
    if (policy == auth::SignaturePolicy::kRequire) {
      return refused("signature_missing",
                     "This node requires requests to be signed (RFC 9421) with the key of the client certificate.");
    }
    out.signature.check = "absent";
    return out;
  }
  auth::VerifiedRequest& request = **verified;
  // The id the node answers and audits under must be the one signed: one X-Request-Id line that the
  // node keeps (it replaces an id it does not accept: see "Every request" in docs/api.md).
  if (call.headerLines("X-Request-Id") != call.requestId) {
    return refused("signature_malformed",
                   "A signed request must carry exactly one X-Request-Id of 1 to 64 characters A-Z a-z 0-9 . _ : -.");
  }
  auto first = nonces_.remember(request.evidence.keyId, request.nonce, request.rememberUntil, window.now);
  if (!first) {
    out.signature.check = "signature_store_unavailable";
    out.refusal = storeUnavailable(first.error());
    return out;
  }
  if (!*first) return refused("signature_replayed", "The signature's nonce was already used.");
  // Kept before the request is served, so that every audit entry's signature can be checked later.
  // Fail closed: a verified request whose chain is not kept would leave evidence nobody can check.
  auto kept = peer.chainPem.empty()
                  ? Result<void>(fail(ErrorCode::kInternal, "the client's presented chain is not known"))
                  : certificates_.keep(peer.certSha256, peer.chainPem);
  if (!kept) {
    out.signature.check = "signature_store_unavailable";
    out.refusal = storeUnavailable(kept.error());
    return out;
  }
  out.signature.check = "verified";
  out.signature.evidence = std::move(request.evidence);
  return out;
}

}  // namespace hie::exchange

// The gate's check of a request's signature (RFC 9421), after admission and
// before routing: the policy that applies (the organization's, else the
// node's), the signature verified against the key of the client certificate
// of the connection, the nonce remembered (a replay is refused), the signer's
// chain archived. A refused signature never reaches a handler. No sockets.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "auth/identity/peer_identity.h"
#include "auth/registry/organization.h"
#include "auth/signatures/signature_policy.h"
#include "common/counters.h"
#include "exchange/http/http_call.h"
#include "exchange/http/request_signature.h"
#include "exchange/http/signature_stores.h"

namespace hie::exchange {

// The 401 for a refused or missing signature: OperationOutcome (code security), WWW-Authenticate
// (HttpSignature, error=reason) and Accept-Signature (RFC 9421 5.1).
HttpReply signatureRefusal(const std::string& reason, const std::string& detail);

class RequestSignatureCheck {
 public:
  using Clock = std::function<std::int64_t()>;  // seconds since the epoch

  struct Outcome {
    RequestSignature signature;     // for the audit entry
    std::optional<HttpReply> refusal;  // 401 (signature) or 503 (the stores failed: fail closed)
  };

  // All references must outlive this. now: default std::time.
  RequestSignatureCheck(const auth::SignatureSettings& settings, NonceRegistry& nonces,
                        CertificateArchive& certificates, Counters& counters, Clock now = {});

  // Counts every outcome (hie_request_signature_checks_total) and every refusal (hie_refusals_total,
  // stage signature).
  Outcome check(const HttpCall& call, const auth::PeerIdentity& peer, const auth::Organization& organization) const;

 private:
  Outcome decide(const HttpCall& call, const auth::PeerIdentity& peer, const auth::Organization& organization) const;

  auth::SignatureSettings settings_;
  NonceRegistry& nonces_;
  CertificateArchive& certificates_;
  Counters& counters_;
  Clock now_;
};

}  // namespace hie::exchange

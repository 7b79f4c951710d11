// What the /exchange handler needs from the outbound client: a bounded pool
// of workers to run calls on, and one GET from a peer node. Implemented by
// PeerClient (exchange/peers/peer_client.h); tests use fakes.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <tl/expected.hpp>

#include "audit/audit_event.h"
#include "auth/registry/registry_snapshot.h"
#include "exchange/http/http_call.h"

namespace hie::exchange {

// The signatures of one peer call, for its audit entry (docs/api.md, "How this node signs its
// calls"): what this node sent, what the peer signed, and how the answer's signature was judged.
struct PeerCallSignatures {
  std::string requestSignatureBase;   // the base this node signed ("" when it sent the request unsigned)
  std::string requestSignature;       // raw signature bytes
  std::string responseSignatureBase;  // the base of the answer's signature, as the peer signed it
  std::string responseSignature;      // raw signature bytes ("" when the answer was unsigned or not checked)
  // verified | absent | off (not checked) | the refusal reason (signature_invalid, ...); "" when no answer came.
  std::string signatureCheck;
};

// Writes a peer call's signatures into its audit entry (requestSignature*, responseSignature*, signatureCheck).
inline void recordSignatures(const PeerCallSignatures& signatures, audit::AuditEvent& entry) {
  entry.requestSignatureBase = signatures.requestSignatureBase;
  entry.requestSignature = signatures.requestSignature;
  entry.responseSignatureBase = signatures.responseSignatureBase;
  entry.responseSignature = signatures.responseSignature;
  entry.signatureCheck = signatures.signatureCheck;
}

// How this node authenticated one peer call, for its audit entry (authentication, clientId).
struct PeerCallAuth {
  std::string authentication = "mtls";  // "mtls", or "mtls+udap" when a UDAP access token was sent
  std::string clientId;                 // this node's client_id at the peer, "" without UDAP
};

inline void recordAuth(const PeerCallAuth& auth, audit::AuditEvent& entry) {
  entry.authentication = auth.authentication;
  entry.clientId = auth.clientId;
}

struct PeerResponse {
  int status = 0;
  std::string contentType;
  std::string body;
  PeerCallSignatures signatures{};
  PeerCallAuth auth{};
};

// Why a call failed, for the caller's OperationOutcome and the audit entry.
struct PeerFailure {
  // tls_<reason> | impersonation | timeout | connect | busy | http_<status> | invalid_response |
  // answer_<signature refusal reason> (the answer's signature did not pass: its body is not used) |
  // signing_failed | ...
  std::string reason;
  std::string detail;  // one sentence, safe to show to the local institution
  PeerCallSignatures signatures{};  // what was signed and checked before the call failed
  PeerCallAuth auth{};
};

// The audit outcome of a peer call that did not succeed, by its reason (PeerFailure::reason, or
// http_<status> for an answer other than 200): "denied" when the peer refused this node (http_403, or
// a UDAP refusal: udap_metadata_invalid, udap_registration_refused, udap_token_refused) or this node
// refused the peer's identity or answer (impersonation, tls_*, answer_*); "error" for anything else.
// The one rule of /exchange and `hie-node fetch` (docs/api.md, docs/udap.md).
inline const char* peerCallOutcome(const std::string& failureReason) {
  auto startsWith = [&](const char* prefix) { return failureReason.rfind(prefix, 0) == 0; };
  const bool denied = failureReason == "impersonation" || startsWith("tls_") || startsWith("answer_") ||
                      failureReason == "http_403" || failureReason == "udap_metadata_invalid" ||
                      failureReason == "udap_registration_refused" || failureReason == "udap_token_refused";
  return denied ? "denied" : "error";
}

class PeerFanout {
 public:
  virtual ~PeerFanout() = default;

  // Runs call on one of the fan-out's workers (shared by every request), first come
  // first served; a call still waiting at its deadline is dropped unrun. false when
  // the fan-out is stopping (call not run).
  virtual bool submit(std::chrono::steady_clock::time_point deadline, std::function<void()> call) = 0;

  // GET pathAndQuery (starting with '/') from the peer's base URL, on the calling
  // thread; returns by the deadline (a call still running then ends as a timeout).
  virtual tl::expected<PeerResponse, PeerFailure> get(const auth::PeerEntry& peer, const std::string& pathAndQuery,
                                                      const HeaderList& headers,
                                                      std::chrono::steady_clock::time_point deadline) = 0;

  // How a call to peer is (or would be) authenticated, for the audit entry of a call that get() never
  // answered (still queued or running at the deadline, not submitted): mutual TLS alone by default; a
  // UDAP client says mtls+udap and its client_id at the peer when known. Thread-safe, never blocks on I/O.
  virtual PeerCallAuth authFor(const auth::PeerEntry& peer) const {
    (void)peer;
    return PeerCallAuth{};
  }
};

}  // namespace hie::exchange

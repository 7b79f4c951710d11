// The signatures of one outbound call (docs/api.md, "How this node signs its
// calls"): the request this node signs, and the judgement of the peer's
// answer under the signature policy that applies to that peer. No sockets:
// PeerClient hands in the messages and the server certificate's key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "auth/registry/registry_snapshot.h"
#include "auth/signatures/exchange_signatures.h"
#include "auth/signatures/signature_policy.h"
#include "exchange/handlers/peer_fanout.h"

namespace hie::exchange {

// The policy for a peer's answers: its organization's signature policy when it set one, else the node's.
auth::SignaturePolicy answerPolicy(auth::SignaturePolicy node, const auth::RegistrySnapshot* registry,
                                   const std::string& organization);

// Checks an answer under policy. off: not checked (signatureCheck "off"). verify-if-present: an
// unsigned answer passes ("absent") unless a Content-Digest it carries does not match, a signature
// present must verify. require: an unsigned answer
// fails. Fills signatures' response fields and signatureCheck; a refused answer returns its
// PeerFailure (reason answer_<refusal reason>, signatures filled), whose body must not be used.
// request: the request as sent (its Signature field included when it was signed); requestSignature:
// its signature, or null when it was sent unsigned.
std::optional<PeerFailure> checkAnswer(auth::SignaturePolicy policy, const auth::HttpMessage& response,
                                       const std::string& body, const auth::HttpMessage& request,
                                       const auth::SignatureEvidence* requestSignature, const std::string& spkiDer,
                                       const std::string& certSha256, const auth::SignatureWindow& window,
                                       PeerCallSignatures& signatures);

}  // namespace hie::exchange

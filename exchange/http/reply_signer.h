// Signs this node's answers (RFC 9421; docs/api.md, "Signed requests and
// answers") with the key of its TLS certificate: @status, content-digest,
// x-request-id and, for a signed request, the request's signature (req). The
// key is swapped when the TLS material is reloaded.
#pragma once

#include <memory>
#include <mutex>
#include <optional>

#include "auth/signatures/exchange_signatures.h"
#include "common/result.h"
#include "exchange/http/http_call.h"

namespace hie::exchange {

class ReplySigner {
 public:
  explicit ReplySigner(std::shared_ptr<const auth::MessageSigningKey> key);
  // Answers signed from now on use key (a TLS reload).
  void useKey(std::shared_ptr<const auth::MessageSigningKey> key);
  std::shared_ptr<const auth::MessageSigningKey> key() const;

  // Signs reply as the answer to call (whose X-Request-Id is call.requestId), covering
  // requestSignature (the verified signature of the request, null when unsigned): adds
  // Content-Digest, Signature-Input and Signature to reply.headers and returns the evidence.
  // A signing failure is logged and leaves the reply unsigned (nullopt).
  std::optional<auth::SignatureEvidence> sign(const HttpCall& call, HttpReply& reply,
                                              const auth::SignatureEvidence* requestSignature) const;

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const auth::MessageSigningKey> key_;
};

}  // namespace hie::exchange

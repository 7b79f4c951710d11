// Signs this node's answers (RFC 9421; docs/api.md, "Signed requests and
// answers") with the key of its TLS certificate: @status, content-digest,
// x-request-id and, for a signed request, the request's signature (req). An
// answer is signed with the key of the certificate the node presented in that
// connection's handshake, which is what the caller verifies it against: after a
// TLS reload, connections made before it keep the previous key.
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "auth/signatures/exchange_signatures.h"
#include "common/result.h"
#include "exchange/http/http_call.h"

namespace hie::exchange {

class ReplySigner {
 public:
  // The keys of the last kKeptKeys certificates are kept (connections outlive a reload).
  static constexpr std::size_t kKeptKeys = 4;

  explicit ReplySigner(std::shared_ptr<const auth::MessageSigningKey> key);
  // The key of a new certificate (a TLS reload): answers on connections that present it use it.
  void addKey(std::shared_ptr<const auth::MessageSigningKey> key);
  // The key of the certificate whose SHA-256 (lowercase hex) is certSha256; null when none is kept.
  std::shared_ptr<const auth::MessageSigningKey> keyFor(const std::string& certSha256) const;

  // Signs reply as the answer to call (whose X-Request-Id is call.requestId) with the key of the
  // certificate certSha256 (the one the connection's handshake presented; "" = the newest key),
  // covering requestSignature (the verified signature of the request, null when unsigned): adds
  // Content-Digest, Signature-Input and Signature to reply.headers and returns the evidence. No key
  // for that certificate, or a signing failure (logged): the reply goes unsigned (nullopt), which
  // callers accept unless they require signed answers, where a signature by another key than the
  // connection's would be refused by every caller.
  std::optional<auth::SignatureEvidence> sign(const std::string& certSha256, const HttpCall& call, HttpReply& reply,
                                              const auth::SignatureEvidence* requestSignature) const;

 private:
  mutable std::mutex mutex_;
  std::deque<std::shared_ptr<const auth::MessageSigningKey>> keys_;  // newest first
};

}  // namespace hie::exchange

// The key this node signs its messages with (RFC 9421; docs/api.md "Signed
// requests and answers"): the private key of its TLS certificate, so a
// signature names the same identity as the node's TLS handshakes, both its
// outbound requests and its answers.
#pragma once

#include "auth/signatures/message_key.h"
#include "auth/tls/tls_material.h"
#include "common/result.h"

namespace hie::auth {

// The material's key and certificate chain (leaf, then intermediates) as a signing key; fails
// (kInvalidInput) when the key type has no signature algorithm (EC P-256, RSA and Ed25519 have).
Result<MessageSigningKey> tlsSigningKey(const TlsMaterial& material);

}  // namespace hie::auth

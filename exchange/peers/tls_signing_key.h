// The key this node signs its outbound requests with: the private key of its
// TLS client certificate (RFC 9421 message signatures, docs/api.md "How this
// node signs its calls"), so a request's signature names the same identity as
// its TLS handshake.
#pragma once

#include "auth/signatures/message_key.h"
#include "auth/tls/tls_material.h"
#include "common/result.h"

namespace hie::exchange {

// The material's key and certificate chain (leaf, then intermediates) as a signing key; fails
// (kInvalidInput) when the key type has no signature algorithm (EC P-256, RSA and Ed25519 have).
Result<auth::MessageSigningKey> tlsSigningKey(const auth::TlsMaterial& material);

}  // namespace hie::exchange

// Certificates and keys as PEM text, for what keeps or hands them on as text:
// the presented chain of a peer (PeerIdentity::chainPem, the certificates
// table) and the node's message signing key.
#pragma once

#include <string>

#include <openssl/x509.h>

#include "common/result.h"

namespace hie::exchange {

// leaf then every certificate of more (may be null) that is not the leaf itself, as PEM.
Result<std::string> pemChain(const X509* leaf, const STACK_OF(X509) * more);
// An unencrypted PKCS#8 PEM of key.
Result<std::string> privateKeyPem(EVP_PKEY* key);

}  // namespace hie::exchange

// The listener's TLS context: TLS 1.2/1.3, ECDHE + AEAD only, security level 2
// (>= 112-bit keys and signatures), client certificate required and verified
// against the trust bundle (and CRLs) inside the handshake; sessions kept in
// the in-memory cache for sessionLifetimeSeconds (a resumed session is
// verified again before it is served: client_standing.h).
#pragma once

#include <Poco/Net/Context.h>

#include "auth/tls/tls_material.h"
#include "common/result.h"

namespace hie::auth {

struct ServerTlsOptions {
  int verifyDepth = 4;               // intermediates allowed between leaf and anchor
  std::string sessionIdContext = "hie-node";
  int sessionLifetimeSeconds = 60;   // how long a session can be resumed; 0 = no resumption
};

// TLS 1.2 suites offered (all ECDHE, all AEAD). TLS 1.3 suites are all AEAD.
extern const char* const kTls12Ciphers;
extern const char* const kTls13Ciphersuites;

Result<Poco::Net::Context::Ptr> makeServerContext(const TlsMaterial& material, const ServerTlsOptions& options);

}  // namespace hie::auth

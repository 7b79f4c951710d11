// Checks a certificate chain presented outside a TLS handshake (a JWT's x5c)
// exactly as the TLS gate checks a client's: the trust bundle in force,
// depth, validity, CRLs and OCSP as configured, not a CA, clientAuth
// permitted. Implemented by auth::ClientRecheck (client_standing.h); tests
// use fakes. A valid chain is not authorization: the caller still maps the
// leaf to an organization.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <openssl/x509.h>

namespace hie::auth {

struct StandingRefusal;

class ChainVerifier {
 public:
  virtual ~ChainVerifier() = default;
  // nullopt when leaf (with the untrusted certificates after it) verifies at `now`; else why not
  // (certificate_expired, certificate_revoked, certificate_revoked_ocsp, unknown_ca, ...).
  virtual std::optional<StandingRefusal> verifyChain(X509* leaf, STACK_OF(X509) * untrusted,
                                                     std::int64_t now) const = 0;
};

}  // namespace hie::auth

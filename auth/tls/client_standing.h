// A client certificate's standing on an open connection. The TLS handshake
// verifies the client once, and a resumed session skips even that; afterwards
// time passes a certificate's notAfter or a CRL's nextUpdate, a reload brings
// other CRLs or trust anchors, an OCSP answer runs out. So before each request
// the listener asks ClientRecheck::check, which verifies the client's chain
// again — against the TLS material in force, with OCSP when it is on — when
// the last verification no longer covers the moment: there was none (a
// resumed session), it was made with other material, or the moment is past
// the earliest date it depended on.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <openssl/ssl.h>

#include "auth/tls/ocsp_checker.h"
#include "auth/udap/chain_verifier.h"
#include "auth/tls/tls_material_store.h"
#include "common/ossl.h"
#include "common/result.h"

namespace hie::auth {

// Why a connection's client no longer stands; reasons named as HandshakeRefusal's
// (certificate_expired, crl_expired, certificate_revoked, certificate_revoked_ocsp, ocsp_unavailable, ...).
struct StandingRefusal {
  std::string reason;
  std::string detail;  // for the log only
};

// One connection's client: its certificates, and what they were last verified against.
struct ClientStanding {
  ossl::UniquePtr<X509> leaf;
  ossl::X509Stack untrusted;                      // what the client sent after its leaf
  bool resumed = false;                           // the handshake resumed a session
  std::shared_ptr<const LoadedTls> verifiedWith;  // null: not verified yet in this process (a resumed session)
  std::int64_t validUntil = 0;                    // seconds since the epoch; the verification holds before it
};

// Also a ChainVerifier: a JWT's x5c chain is verified exactly as a client's
// chain is (same store, parameters, callback and OCSP), without a connection.
class ClientRecheck : public ChainVerifier {
 public:
  // Both must outlive this; ocsp may be null (no OCSP).
  ClientRecheck(const TlsMaterialStore& tls, OcspChecker* ocsp);

  // On the server context: when a handshake completes, records its client's
  // standing on the connection's SSL (ex_data, freed with it), and takes the
  // context's verification parameters (depth, purpose, security level) for
  // later verifications. Also keeps the OpenSSL error that ends a failed
  // handshake in its VerificationRecord (handshake_verification.h).
  void attachTo(SSL_CTX* serverContext);
  // The standing the completed handshake on ssl recorded, once; kUnauthenticated when none.
  Result<ClientStanding> takeHandshake(SSL* ssl) const;
  // Admits a request at `now` (seconds since the epoch), verifying again when
  // needed, or says why the client no longer stands (then it stays unverified).
  std::optional<StandingRefusal> check(ClientStanding& standing, std::int64_t now) const;
  // ChainVerifier: verifies leaf (with untrusted, may be null) at `now` against the TLS material in
  // force, as check() does. Refuses everything (certificate_invalid) before attachTo.
  std::optional<StandingRefusal> verifyChain(X509* leaf, STACK_OF(X509) * untrusted,
                                             std::int64_t now) const override;

 private:
  static void onHandshakeEvent(const SSL* ssl, int where, int ret);
  // The verification itself, with `material`; on success *validUntil is when it stops holding.
  std::optional<StandingRefusal> verifyWith(const LoadedTls& material, X509* leaf, STACK_OF(X509) * untrusted,
                                            std::int64_t now, std::int64_t* validUntil) const;

  const TlsMaterialStore& tls_;
  OcspChecker* ocsp_;
  SSL_CTX* serverContext_ = nullptr;  // set once at startup, before any handshake
};

// The first second at which a verified chain (leaf first) no longer holds: the
// earliest notAfter of its certificates, nextUpdate of a CRL in `material`
// from the issuer of one of them, and ocspValidUntil. Pure.
std::int64_t verifiedUntil(STACK_OF(X509) * verifiedChain, const TlsMaterial& material, std::int64_t ocspValidUntil);

}  // namespace hie::auth

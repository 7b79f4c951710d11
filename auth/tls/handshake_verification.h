// Certificate checks that run inside the TLS handshake (and in a verification
// outside one, see client_standing.h), and the record of why the last
// verification on this thread was refused (read by the listener to log,
// count and audit the refusal).
#pragma once

#include <cstdint>
#include <string>

#include <openssl/ssl.h>

namespace hie::auth {

struct HandshakeRefusal {
  std::string reason;        // stable short name: certificate_expired, unknown_issuer, ca_as_client, ...
  std::string detail;        // OpenSSL's sentence, with the depth
  std::string subjectDn;     // of the presented leaf, when there was one
  std::string issuerDn;
  std::string certSha256;
};

// Clears and reads this thread's record of the last refusal (handshakes run in
// the thread that reads the socket first).
void clearHandshakeRefusal();
const HandshakeRefusal* lastHandshakeRefusal();

// Until when (seconds since the epoch) the OCSP status that admitted the leaf
// in the last verification on this thread holds (OcspChecker::Status::validUntil);
// OcspChecker::kNoLimit when OCSP is off or did not bound it. Cleared with the refusal.
std::int64_t lastOcspValidUntil();

// Records a refusal for this thread (the first one wins until cleared).
void recordHandshakeRefusal(X509_STORE_CTX* ctx, int x509Error, const std::string& reason,
                            const std::string& detail = "");

// Short stable name for an X509_V_ERR_* code.
const char* verifyErrorReason(int x509Error);

// The SSL verify callback used by server contexts: OpenSSL's chain, validity,
// CRL, purpose and security-level checks, plus: the leaf must not be a CA,
// and with OCSP on (OcspChecker::of(ctx)) the leaf must not be revoked.
int verifyClientCertificate(int preverifyOk, X509_STORE_CTX* ctx);

}  // namespace hie::auth

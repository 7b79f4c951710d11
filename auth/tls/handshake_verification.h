// Certificate checks that run inside the TLS handshake (and in a verification
// outside one, see client_standing.h), and the record of what they found.
// The record belongs to the connection: it lives in the SSL object's ex_data
// (freed with the SSL), so the verify callback writes to the connection it
// verifies and the thread that runs the handshake reads from the same SSL,
// whichever thread OpenSSL or Poco runs the callback on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <openssl/ssl.h>

#include "auth/tls/ocsp_checker.h"

namespace hie::auth {

struct HandshakeRefusal {
  std::string reason;        // stable short name: certificate_expired, unknown_issuer, ca_as_client, ...
  std::string detail;        // OpenSSL's sentence, with the depth
  std::string subjectDn;     // of the presented leaf, when there was one
  std::string issuerDn;
  std::string certSha256;
};

// What verifying one peer found.
struct VerificationRecord {
  std::optional<HandshakeRefusal> refusal;  // the first, most specific refusal
  // Until when (seconds since the epoch) the OCSP status that admitted the leaf
  // holds (OcspChecker::Status::validUntil); kNoLimit when OCSP is off or did not bound it.
  std::int64_t ocspValidUntil = OcspChecker::kNoLimit;
  // The OpenSSL error (ERR_* packed code) that ended a failed handshake, 0 when none was raised.
  unsigned long handshakeError = 0;
};

// The record of the handshake on ssl, created on first use and freed with the
// SSL; null only when it cannot be allocated.
VerificationRecord* verificationRecord(SSL* ssl);
// The same without creating one: null when nothing was recorded on ssl.
const VerificationRecord* findVerificationRecord(const SSL* ssl);

// For a verification outside a handshake: what the callbacks find goes to
// record, which must outlive the verification.
void attachVerificationRecord(X509_STORE_CTX* ctx, VerificationRecord* record);

// Records a refusal in the record ctx's verification writes to (the first one
// wins): the attached one, else its handshake's SSL's.
void recordHandshakeRefusal(X509_STORE_CTX* ctx, int x509Error, const std::string& reason,
                            const std::string& detail = "");

// For an info callback at a handshake's exit with ret <= 0: keeps the newest
// OpenSSL error on this thread's queue (the one this failure raised) in ssl's record.
void recordHandshakeError(const SSL* ssl);

// Short stable name for an X509_V_ERR_* code.
const char* verifyErrorReason(int x509Error);

// The SSL verify callback used by server contexts: OpenSSL's chain, validity,
// CRL, purpose and security-level checks, plus: the leaf must not be a CA,
// and with OCSP on (OcspChecker::of(ctx)) the leaf must not be revoked.
int verifyClientCertificate(int preverifyOk, X509_STORE_CTX* ctx);

}  // namespace hie::auth

// DEVELOPMENT CA — NOT FOR PRODUCTION. What `hie-node pki` makes: EC P-256
// keys (RSA leaves on request), ECDSA-SHA256 signatures, a root, an issuing CA (pathLen 0), leaves and
// v2 CRLs, built in-process with OpenSSL 3. Keys are never encrypted.
// Failures are values carrying the drained OpenSSL error queue.
#pragma once


#include <string>
#include <vector>

#include "common/ossl.h"
#include "common/result.h"

namespace hie::auth {

// What a certificate says about its subject.
struct CertificateProfile {
  std::string commonName;                     // CN (empty = none)
  std::string organization;                   // O (empty = none)
  std::vector<std::string> sanUris;           // URI SANs
  std::vector<std::string> sanDns;            // DNS SANs
  std::vector<std::string> sanIps;            // IP SANs ("127.0.0.1", "::1")
  bool isCa = false;                          // critical basicConstraints CA:TRUE/CA:FALSE
  int pathLen = -1;                           // CA path length; -1 = none
  std::vector<std::string> extendedKeyUsage;  // e.g. {"clientAuth"}; empty = no EKU
  long notBeforeOffsetSeconds = -3600;        // relative to now
  long notAfterOffsetSeconds = 30L * 24 * 3600;
  // The subject's key: 0 = EC P-256 (the default), else an RSA key of this many bits (2048..4096,
  // for a certificate that signs RS256 JWTs, e.g. UDAP signed_metadata).
  int rsaBits = 0;
};

// A certificate and, when known, its private key (null otherwise).
struct CaCredential {
  ossl::UniquePtr<X509> cert;
  ossl::UniquePtr<EVP_PKEY> key;
};

// A root and the issuing CA it signed.
struct CertificateAuthority {
  CaCredential root;
  CaCredential intermediate;
};

Result<ossl::UniquePtr<EVP_PKEY>> generateEcP256Key();
// An RSA key of bits (2048..4096; kInvalidInput otherwise), public exponent 65537.
Result<ossl::UniquePtr<EVP_PKEY>> generateRsaKey(int bits);

// The unsigned certificate for subjectKey: random positive 63-bit serial,
// the profile's names, validity and extensions; keyUsage critical
// keyCertSign,cRLSign for CAs and digitalSignature for leaves; SKI, and AKI
// from issuerCert (nullptr = self-issued).
Result<ossl::UniquePtr<X509>> draftCertificate(const CertificateProfile& profile, EVP_PKEY* subjectKey,
                                               X509* issuerCert);

// Adds one extension written in openssl.cnf syntax (e.g. "critical,CA:TRUE").
Result<void> addConfExtension(X509* cert, X509* issuerCert, int nid, const std::string& value);

// A fresh key (EC P-256, or RSA when profile.rsaBits) and its certificate,
// signed with SHA-256 by issuer (nullptr = self-signed).
Result<CaCredential> issueCertificate(const CertificateProfile& profile, const CaCredential* issuer);

// A self-signed root and an issuing CA under it (pathLen 0), both in organization.
Result<CertificateAuthority> createCertificateAuthority(const std::string& organization,
                                                        const std::string& rootName, long rootSeconds,
                                                        const std::string& issuingName, long issuingSeconds);

struct CrlProfile {
  std::vector<const X509*> revoked;              // listed by serial number
  long lastUpdateOffsetSeconds = -60;            // relative to now
  long nextUpdateOffsetSeconds = 7L * 24 * 3600; // negative = already expired
  long crlNumber = 1;
};

// A v2 CRL (CRL number + authorityKeyIdentifier) signed with SHA-256 by issuer, as PEM.
Result<std::string> makeCrlPem(const CaCredential& issuer, const CrlProfile& profile);

Result<std::string> certificatePem(X509* cert);
Result<std::string> privateKeyPem(EVP_PKEY* key);  // unencrypted PKCS#8
// leaf, then every certificate of more (may be null) that is not the leaf itself, as PEM: a chain
// as presented (a client's chain as OpenSSL keeps it may start with the leaf) or as configured.
Result<std::string> certificateChainPem(const X509* leaf, const STACK_OF(X509) * more);

// The first certificate of certPem and, unless keyPem is empty, its private key.
Result<CaCredential> credentialFromPem(const std::string& certPem, const std::string& keyPem);

}  // namespace hie::auth

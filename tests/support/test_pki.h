// The test PKI: certificates built at test time (EC P-256 by default, any
// validity, EKU, SAN, basic constraint, weak key or SHA-1 a case needs), CRLs,
// and the temporary files that hold them. Built on the development CA's
// certificate builder (auth/tls/development_ca.h); what only tests need (weak
// keys, SHA-1, fixed serials, OCSP URLs, odd keyUsage) lives here.
// Failures throw std::runtime_error carrying the drained OpenSSL error queue.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "auth/tls/development_ca.h"
#include "common/ossl.h"

namespace hie::testing {

enum class KeyType { kEcP256, kRsa1024, kRsa2048 };
enum class Digest { kSha256, kSha1 };

// The development CA's profile plus what only tests ask for.
struct CertSpec : auth::CertificateProfile {
  std::string ocspUrl;                        // authorityInfoAccess OCSP responder; empty = none
  std::string keyUsage;                       // overrides the default keyUsage, e.g. "critical,digitalSignature,keyCertSign"
  KeyType keyType = KeyType::kEcP256;
  Digest digest = Digest::kSha256;
  long serial = 0;                            // 0 = random positive 63-bit serial
};

// A private key and its certificate. Copies share the handles (up-ref'd).
// A default-constructed Credential is empty: cert()/key() are nullptr and the
// string accessors throw.
class Credential {
 public:
  Credential() = default;
  explicit Credential(auth::CaCredential credential);
  Credential(const Credential& other);
  Credential& operator=(const Credential& other);
  Credential(Credential&&) noexcept = default;
  Credential& operator=(Credential&&) noexcept = default;
  ~Credential() = default;

  // From PEM text: the first certificate and, unless keyPem is empty, its private key.
  static Credential fromPem(const std::string& certPem, const std::string& keyPem);

  X509* cert() const { return c_.cert.get(); }    // borrowed, owned by *this
  EVP_PKEY* key() const { return c_.key.get(); }  // borrowed, owned by *this
  const auth::CaCredential& handles() const { return c_; }
  std::string certPem() const;
  std::string keyPem() const;                     // unencrypted PKCS#8 PEM
  std::string certDer() const;                    // raw DER bytes
  std::string serialHex() const;                  // as `openssl x509 -serial`, e.g. "0A1B"
  std::string sha256Fingerprint() const;          // lowercase hex, no colons

 private:
  auth::CaCredential c_;
};

// Issues a fresh key + certificate for spec, signed by issuer (nullptr =
// self-signed). CAs get keyUsage keyCertSign,cRLSign; leaves get
// digitalSignature (both critical). SKI and AKI are always set.
Credential issue(const CertSpec& spec, const Credential* issuer);

struct CrlSpec {
  std::vector<const Credential*> revoked;          // listed by serial number
  long lastUpdateOffsetSeconds = -60;              // relative to now
  long nextUpdateOffsetSeconds = 7L * 24 * 3600;   // negative = already expired
  long crlNumber = 1;
};

// A v2 CRL (CRL number + authorityKeyIdentifier) signed by issuer, as PEM.
std::string makeCrlPem(const Credential& issuer, const CrlSpec& spec);

// Root "Test Network Root" -> intermediate "Test Network Issuing CA" (pathLen 0).
struct TestPki {
  Credential root;
  Credential intermediate;

  static TestPki create();                       // fresh keys on every call
  Credential leaf(const CertSpec& spec) const;   // issued by intermediate
  std::string chainPem(const Credential& leaf) const;  // leaf + intermediate PEM
};

// Throws std::runtime_error("<what>: <drained OpenSSL error queue>").
[[noreturn]] void throwOpenSsl(const std::string& what);

// Writes content to dir/name and returns the full path. Mode is 0600 when the
// content holds a PRIVATE KEY, else 0644 (umask ignored). Throws on I/O error.
std::string writeFile(const std::string& dir, const std::string& name, const std::string& content);
std::string writeFile(const std::string& dir, const std::string& name, const std::string& content,
                      mode_t mode);

// A fresh private (0700) directory from mkdtemp under $TMPDIR or /tmp, removed
// recursively by the destructor. Throws if it cannot be created.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace hie::testing

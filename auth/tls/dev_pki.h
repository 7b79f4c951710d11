// DEVELOPMENT PKI — NOT FOR PRODUCTION. Keys, certificates and CRLs built
// in-process with the OpenSSL 3 API, for `hie-node pki`, the demo and the
// tests. Nothing is checked in; everything is generated when needed.
// All failures throw std::runtime_error carrying the drained OpenSSL error
// queue (callers in app/ translate them).
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace hie::devpki {
namespace detail {

// RAII deleters. ASN1_INTEGER, ASN1_TIME, ASN1_IA5STRING and ASN1_OCTET_STRING
// are all typedefs of ASN1_STRING, so Free<ASN1_STRING> covers them.
template <class T> struct Free;
template <> struct Free<X509> { void operator()(X509* p) const noexcept { X509_free(p); } };
template <> struct Free<EVP_PKEY> { void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); } };
template <> struct Free<EVP_PKEY_CTX> { void operator()(EVP_PKEY_CTX* p) const noexcept { EVP_PKEY_CTX_free(p); } };
template <> struct Free<X509_CRL> { void operator()(X509_CRL* p) const noexcept { X509_CRL_free(p); } };
template <> struct Free<X509_NAME> { void operator()(X509_NAME* p) const noexcept { X509_NAME_free(p); } };
template <> struct Free<X509_EXTENSION> { void operator()(X509_EXTENSION* p) const noexcept { X509_EXTENSION_free(p); } };
template <> struct Free<X509_REVOKED> { void operator()(X509_REVOKED* p) const noexcept { X509_REVOKED_free(p); } };
template <> struct Free<X509_STORE> { void operator()(X509_STORE* p) const noexcept { X509_STORE_free(p); } };
template <> struct Free<X509_STORE_CTX> { void operator()(X509_STORE_CTX* p) const noexcept { X509_STORE_CTX_free(p); } };
template <> struct Free<STACK_OF(X509)> { void operator()(STACK_OF(X509)* p) const noexcept { sk_X509_pop_free(p, X509_free); } };
template <> struct Free<BIO> { void operator()(BIO* p) const noexcept { BIO_free_all(p); } };
template <> struct Free<ASN1_STRING> { void operator()(ASN1_STRING* p) const noexcept { ASN1_STRING_free(p); } };
template <> struct Free<GENERAL_NAME> { void operator()(GENERAL_NAME* p) const noexcept { GENERAL_NAME_free(p); } };
template <> struct Free<GENERAL_NAMES> { void operator()(GENERAL_NAMES* p) const noexcept { GENERAL_NAMES_free(p); } };
template <> struct Free<EXTENDED_KEY_USAGE> { void operator()(EXTENDED_KEY_USAGE* p) const noexcept { EXTENDED_KEY_USAGE_free(p); } };
template <> struct Free<BASIC_CONSTRAINTS> { void operator()(BASIC_CONSTRAINTS* p) const noexcept { BASIC_CONSTRAINTS_free(p); } };

template <class T> using UniquePtr = std::unique_ptr<T, Free<T>>;

// Throws std::runtime_error("<what>: <drained OpenSSL error queue>").
[[noreturn]] void throwOpenSsl(const std::string& what);

}  // namespace detail

enum class KeyType { kEcP256, kRsa1024, kRsa2048 };
enum class Digest { kSha256, kSha1 };

struct CertSpec {
  std::string commonName;                     // CN (empty = none)
  std::string organization;                   // O (empty = none)
  std::vector<std::string> sanUris;           // URI SANs
  std::vector<std::string> sanDns;            // DNS SANs
  std::vector<std::string> sanIps;            // IP SANs ("127.0.0.1", "::1")
  bool isCa = false;                          // critical basicConstraints CA:TRUE/CA:FALSE
  int pathLen = -1;                           // CA path length; -1 = none
  std::vector<std::string> extendedKeyUsage;  // e.g. {"clientAuth"}; empty = no EKU
  std::string ocspUrl;                        // authorityInfoAccess OCSP responder; empty = none
  std::string keyUsage;                       // overrides the default keyUsage, e.g. "critical,digitalSignature,keyCertSign"
  long notBeforeOffsetSeconds = -3600;        // relative to now
  long notAfterOffsetSeconds = 30L * 24 * 3600;
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
  Credential(detail::UniquePtr<X509> cert, detail::UniquePtr<EVP_PKEY> key);
  Credential(const Credential& other);
  Credential& operator=(const Credential& other);
  Credential(Credential&&) noexcept = default;
  Credential& operator=(Credential&&) noexcept = default;
  ~Credential() = default;

  // From PEM text: one certificate and, unless keyPem is empty, its private key. Throws on bad input.
  static Credential fromPem(const std::string& certPem, const std::string& keyPem);

  X509* cert() const { return cert_.get(); }     // borrowed, owned by *this
  EVP_PKEY* key() const { return key_.get(); }   // borrowed, owned by *this
  std::string certPem() const;
  std::string keyPem() const;                    // unencrypted PKCS#8 PEM
  std::string certDer() const;                   // raw DER bytes
  std::string serialHex() const;                 // as `openssl x509 -serial`, e.g. "0A1B"
  std::string sha256Fingerprint() const;         // lowercase hex, no colons

 private:
  detail::UniquePtr<X509> cert_;
  detail::UniquePtr<EVP_PKEY> key_;
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
  Digest digest = Digest::kSha256;
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

}  // namespace hie::devpki

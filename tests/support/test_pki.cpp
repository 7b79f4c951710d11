#include "tests/support/test_pki.h"

#include <openssl/err.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "auth/identity/certificate_identity.h"
#include "common/file.h"

namespace hie::testing {
namespace {

template <class T>
T orThrow(Result<T> result) {
  if (!result) throw std::runtime_error(result.error().internal);
  return std::move(*result);
}

void orThrow(Result<void> result) {
  if (!result) throw std::runtime_error(result.error().internal);
}

void check(int ok, const char* what) {
  if (ok <= 0) throwOpenSsl(what);
}

void requireNonEmpty(const Credential& c, const char* what) {
  if (c.cert() == nullptr || c.key() == nullptr) {
    throw std::runtime_error(std::string(what) + ": empty Credential");
  }
}

void requireCert(const Credential& c, const char* what) {
  if (c.cert() == nullptr) throw std::runtime_error(std::string(what) + ": empty Credential");
}

// Test-only key types: the development CA makes EC P-256 keys only.
ossl::UniquePtr<EVP_PKEY> generateKey(KeyType type) {
  if (type == KeyType::kEcP256) return orThrow(auth::generateEcP256Key());
  const size_t bits = type == KeyType::kRsa1024 ? 1024 : 2048;
  ossl::UniquePtr<EVP_PKEY> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits));
  if (!key) throwOpenSsl("EVP_PKEY_Q_keygen");
  return key;
}

// The test-only parts of spec, applied to the development CA's draft before signing.
void applyTestOnlyFields(const CertSpec& spec, X509* cert, X509* issuerCert) {
  if (spec.serial != 0) {
    ossl::UniquePtr<ASN1_INTEGER> serial(ASN1_INTEGER_new());
    if (!serial) throwOpenSsl("ASN1_INTEGER_new");
    check(ASN1_INTEGER_set_int64(serial.get(), spec.serial), "ASN1_INTEGER_set_int64");
    check(X509_set_serialNumber(cert, serial.get()), "X509_set_serialNumber");
  }
  if (!spec.keyUsage.empty()) {
    const int at = X509_get_ext_by_NID(cert, NID_key_usage, -1);
    ossl::UniquePtr<X509_EXTENSION> old(at >= 0 ? X509_delete_ext(cert, at) : nullptr);
    orThrow(auth::addConfExtension(cert, issuerCert, NID_key_usage, spec.keyUsage));
  }
  if (!spec.ocspUrl.empty()) {
    orThrow(auth::addConfExtension(cert, issuerCert, NID_info_access, "OCSP;URI:" + spec.ocspUrl));
  }
}

}  // namespace

void throwOpenSsl(const std::string& what) {
  const std::string queue = ossl::drainErrors();
  throw std::runtime_error(what + ": " + (queue.empty() ? "(no OpenSSL error queued)" : queue));
}

// ---- Credential ----

Credential::Credential(auth::CaCredential credential) : c_(std::move(credential)) {}

Credential::Credential(const Credential& other) { *this = other; }

Credential& Credential::operator=(const Credential& other) {
  if (this == &other) return *this;
  auth::CaCredential copy;
  if (other.cert() != nullptr) {
    check(X509_up_ref(other.cert()), "X509_up_ref");
    copy.cert.reset(other.cert());
  }
  if (other.key() != nullptr) {
    check(EVP_PKEY_up_ref(other.key()), "EVP_PKEY_up_ref");
    copy.key.reset(other.key());
  }
  c_ = std::move(copy);
  return *this;
}

Credential Credential::fromPem(const std::string& certPem, const std::string& keyPem) {
  return Credential(orThrow(auth::credentialFromPem(certPem, keyPem)));
}

std::string Credential::certPem() const { return orThrow(auth::certificatePem(cert())); }

std::string Credential::keyPem() const {
  requireNonEmpty(*this, "keyPem");
  return orThrow(auth::privateKeyPem(key()));
}

std::string Credential::certDer() const {
  requireCert(*this, "certDer");
  const int len = i2d_X509(cert(), nullptr);
  if (len <= 0) throwOpenSsl("i2d_X509");
  std::string out(static_cast<size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(&out[0]);
  if (i2d_X509(cert(), &p) != len) throwOpenSsl("i2d_X509");
  return out;
}

std::string Credential::serialHex() const {
  requireCert(*this, "serialHex");
  return orThrow(auth::extractIdentity(cert())).serialHex;
}

std::string Credential::sha256Fingerprint() const {
  requireCert(*this, "sha256Fingerprint");
  return orThrow(auth::certificateSha256(cert()));
}

// ---- issuing ----

Credential issue(const CertSpec& spec, const Credential* issuer) {
  if (issuer != nullptr) requireNonEmpty(*issuer, "issue: issuer");
  auto key = generateKey(spec.keyType);
  X509* issuerCert = issuer != nullptr ? issuer->cert() : nullptr;
  auto cert = orThrow(auth::draftCertificate(spec, key.get(), issuerCert));
  applyTestOnlyFields(spec, cert.get(), issuerCert);
  EVP_PKEY* signer = issuer != nullptr ? issuer->key() : key.get();
  if (X509_sign(cert.get(), signer, spec.digest == Digest::kSha1 ? EVP_sha1() : EVP_sha256()) <= 0) {
    throwOpenSsl("X509_sign");
  }
  return Credential(auth::CaCredential{std::move(cert), std::move(key)});
}

std::string makeCrlPem(const Credential& issuer, const CrlSpec& spec) {
  auth::CrlProfile profile;
  for (const Credential* revoked : spec.revoked) {
    if (revoked == nullptr || revoked->cert() == nullptr) {
      throw std::runtime_error("makeCrlPem: null revoked credential");
    }
    profile.revoked.push_back(revoked->cert());
  }
  profile.lastUpdateOffsetSeconds = spec.lastUpdateOffsetSeconds;
  profile.nextUpdateOffsetSeconds = spec.nextUpdateOffsetSeconds;
  profile.crlNumber = spec.crlNumber;
  return orThrow(auth::makeCrlPem(issuer.handles(), profile));
}

// ---- TestPki ----

TestPki TestPki::create() {
  auto ca = orThrow(auth::createCertificateAuthority("HIE Test", "Test Network Root", 365L * 24 * 3600,
                                                     "Test Network Issuing CA", 180L * 24 * 3600));
  return TestPki{Credential(std::move(ca.root)), Credential(std::move(ca.intermediate))};
}

Credential TestPki::leaf(const CertSpec& spec) const { return issue(spec, &intermediate); }

std::string TestPki::chainPem(const Credential& leaf) const {
  return leaf.certPem() + intermediate.certPem();
}

// ---- files ----

std::string writeFile(const std::string& dir, const std::string& name, const std::string& content) {
  const bool isKey = content.find("PRIVATE KEY") != std::string::npos;
  return writeFile(dir, name, content, isKey ? 0600 : 0644);
}

std::string writeFile(const std::string& dir, const std::string& name, const std::string& content,
                      mode_t mode) {
  return orThrow(writeFileWithMode(dir, name, content, mode));
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = (base != nullptr && base[0] != '\0') ? base : "/tmp";
  tmpl += "/hie-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
  }
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);  // best effort; never throws
}

}  // namespace hie::testing

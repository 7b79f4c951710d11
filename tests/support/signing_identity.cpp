#include "tests/support/signing_identity.h"

#include <stdexcept>

#include "common/digest.h"

namespace hie::testing {
namespace {

std::string spkiOf(X509* cert) {
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(X509_get0_pubkey(cert), &der);
  std::string out = ossl::takeDer(der, length);
  if (out.empty()) throwOpenSsl("i2d_PUBKEY");
  return out;
}

std::string derOf(X509* cert) {
  unsigned char* der = nullptr;
  const int length = i2d_X509(cert, &der);
  std::string out = ossl::takeDer(der, length);
  if (out.empty()) throwOpenSsl("i2d_X509");
  return out;
}

}  // namespace

SigningIdentity SigningIdentity::issue(const TestPki& pki, SignerKey key, const std::string& commonName) {
  CertSpec spec;
  spec.commonName = commonName;
  spec.extendedKeyUsage = {"clientAuth", "serverAuth"};
  SigningIdentity out;
  if (key == SignerKey::kEd25519 || key == SignerKey::kEcP384) {
    ossl::UniquePtr<EVP_PKEY> ownKey(key == SignerKey::kEd25519 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                                                               : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
    if (!ownKey) throwOpenSsl("keygen");
    auto cert = auth::draftCertificate(spec, ownKey.get(), pki.intermediate.cert());
    if (!cert) throw std::runtime_error(cert.error().internal);
    if (X509_sign(cert->get(), pki.intermediate.key(), EVP_sha256()) <= 0) throwOpenSsl("X509_sign");
    auto certPem = auth::certificatePem(cert->get());
    auto keyPem = auth::privateKeyPem(ownKey.get());
    if (!certPem || !keyPem) throw std::runtime_error("PEM encoding failed");
    out.certPem = *certPem;
    out.keyPem = *keyPem;
    out.certDer = derOf(cert->get());
    out.spkiDer = spkiOf(cert->get());
  } else {
    spec.keyType = key == SignerKey::kEcP256 ? KeyType::kEcP256 : KeyType::kRsa2048;
    Credential leaf = pki.leaf(spec);
    out.certPem = leaf.certPem();
    out.keyPem = leaf.keyPem();
    out.certDer = leaf.certDer();
    out.spkiDer = spkiOf(leaf.cert());
  }
  out.keyId = sha256Hex(out.certDer);
  return out;
}

}  // namespace hie::testing

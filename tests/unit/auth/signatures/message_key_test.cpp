#include "auth/signatures/message_key.h"

#include <openssl/pem.h>

#include <gtest/gtest.h>

#include <string>

#include "tests/support/signing_identity.h"
#include "tests/support/test_pki.h"

namespace hie::auth {
namespace {

using testing::SignerKey;
using testing::SigningIdentity;
using testing::TestPki;

TEST(MessageKey, AlgorithmNames) {
  EXPECT_STREQ(algorithmName(SignatureAlgorithm::kEcdsaP256Sha256), "ecdsa-p256-sha256");
  EXPECT_STREQ(algorithmName(SignatureAlgorithm::kRsaPssSha512), "rsa-pss-sha512");
  EXPECT_STREQ(algorithmName(SignatureAlgorithm::kEd25519), "ed25519");
}

TEST(MessageKey, EveryKeyTypeSignsWhatItsCertificateVerifies) {
  const TestPki pki = TestPki::create();
  struct Case {
    SignerKey key;
    SignatureAlgorithm algorithm;
    std::size_t signatureSize;
  };
  for (const Case& c : {Case{SignerKey::kEcP256, SignatureAlgorithm::kEcdsaP256Sha256, 64},
                        Case{SignerKey::kRsa2048, SignatureAlgorithm::kRsaPssSha512, 256},
                        Case{SignerKey::kEd25519, SignatureAlgorithm::kEd25519, 64}}) {
    const SigningIdentity id = SigningIdentity::issue(pki, c.key);
    auto key = MessageSigningKey::fromPem(id.keyPem, id.certPem + pki.intermediate.certPem());
    ASSERT_TRUE(key) << key.error().internal;
    EXPECT_EQ(key->algorithm(), c.algorithm);
    EXPECT_EQ(key->keyId(), id.keyId);
    EXPECT_EQ(key->certificateChainPem(), id.certPem + pki.intermediate.certPem());
    auto verifier = MessageVerifyingKey::fromSpki(id.spkiDer);
    ASSERT_TRUE(verifier) << verifier.error().internal;
    EXPECT_EQ(verifier->algorithm(), c.algorithm);
    for (int i = 0; i < 20; ++i) {  // ECDSA r and s are sometimes shorter than 32 bytes: padded
      const std::string base = "\"@method\": GET\n\"@signature-params\": (\"@method\");created=" + std::to_string(i);
      auto signature = key->sign(base);
      ASSERT_TRUE(signature) << signature.error().internal;
      EXPECT_EQ(signature->size(), c.signatureSize);
      EXPECT_TRUE(verifier->verify(base, *signature));
      EXPECT_FALSE(verifier->verify(base + " ", *signature));
      std::string flipped = *signature;
      flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 1);
      EXPECT_FALSE(verifier->verify(base, flipped));
      EXPECT_FALSE(verifier->verify(base, signature->substr(1)));
      EXPECT_FALSE(verifier->verify(base, ""));
    }
  }
}

TEST(MessageKey, KeyIdIsTheCertificatesSha256) {
  const TestPki pki = TestPki::create();
  auto leaf = pki.leaf(testing::CertSpec{});
  EXPECT_EQ(certificateKeyId(leaf.certDer()), leaf.sha256Fingerprint());
}

TEST(MessageKey, RefusesAKeyThatIsNotTheCertificates) {
  const TestPki pki = TestPki::create();
  const SigningIdentity a = SigningIdentity::issue(pki, SignerKey::kEcP256);
  const SigningIdentity b = SigningIdentity::issue(pki, SignerKey::kEcP256);
  auto key = MessageSigningKey::fromPem(a.keyPem, b.certPem);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code, ErrorCode::kInvalidInput);
  EXPECT_FALSE(MessageSigningKey::fromPem("", a.certPem));
  EXPECT_FALSE(MessageSigningKey::fromPem(a.keyPem, ""));
  EXPECT_FALSE(MessageSigningKey::fromPem(a.keyPem, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"));
}

TEST(MessageKey, RefusesEncryptedKeys) {
  const TestPki pki = TestPki::create();
  const SigningIdentity id = SigningIdentity::issue(pki, SignerKey::kEcP256);
  ossl::UniquePtr<BIO> in(BIO_new_mem_buf(id.keyPem.data(), static_cast<int>(id.keyPem.size())));
  ossl::UniquePtr<EVP_PKEY> pkey(PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr));
  ossl::UniquePtr<BIO> out(BIO_new(BIO_s_mem()));
  char pass[] = "secret";
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(out.get(), pkey.get(), EVP_aes_256_cbc(), pass, 6, nullptr, nullptr), 1);
  char* data = nullptr;
  const long length = BIO_get_mem_data(out.get(), &data);
  EXPECT_FALSE(MessageSigningKey::fromPem(std::string(data, static_cast<std::size_t>(length)), id.certPem));
}

TEST(MessageKey, RefusesWeakRsaAndOtherCurves) {
  const TestPki pki = TestPki::create();
  testing::CertSpec weak;
  weak.keyType = testing::KeyType::kRsa1024;
  auto leaf = pki.leaf(weak);
  EXPECT_FALSE(MessageSigningKey::fromPem(leaf.keyPem(), leaf.certPem()));
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(X509_get0_pubkey(leaf.cert()), &der);
  EXPECT_FALSE(MessageVerifyingKey::fromSpki(ossl::takeDer(der, length)));

  ossl::UniquePtr<EVP_PKEY> p384(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  ASSERT_TRUE(p384);
  der = nullptr;
  const int p384Length = i2d_PUBKEY(p384.get(), &der);
  auto key = MessageVerifyingKey::fromSpki(ossl::takeDer(der, p384Length));
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code, ErrorCode::kInvalidInput);
}

TEST(MessageKey, RefusesMalformedSpki) {
  const TestPki pki = TestPki::create();
  const SigningIdentity id = SigningIdentity::issue(pki, SignerKey::kEcP256);
  EXPECT_FALSE(MessageVerifyingKey::fromSpki(""));
  EXPECT_FALSE(MessageVerifyingKey::fromSpki("garbage"));
  EXPECT_FALSE(MessageVerifyingKey::fromSpki(id.spkiDer.substr(0, id.spkiDer.size() - 1)));
  EXPECT_FALSE(MessageVerifyingKey::fromSpki(id.spkiDer + "x"));  // trailing bytes
  EXPECT_TRUE(MessageVerifyingKey::fromSpki(id.spkiDer));
}

}  // namespace
}  // namespace hie::auth

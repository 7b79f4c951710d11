#include "auth/signatures/message_key.h"

#include <openssl/pem.h>

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

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
  EXPECT_STREQ(algorithmName(SignatureAlgorithm::kEcdsaP384Sha384), "ecdsa-p384-sha384");
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
                        Case{SignerKey::kEd25519, SignatureAlgorithm::kEd25519, 64},
                        Case{SignerKey::kEcP384, SignatureAlgorithm::kEcdsaP384Sha384, 96}}) {
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
      EXPECT_FALSE(verifier->verify(base, *signature + std::string(1, '\0')));
      EXPECT_FALSE(verifier->verify(base, std::string(1, '\0') + *signature));
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

  for (const char* curve : {"P-521", "secp256k1"}) {
    ossl::UniquePtr<EVP_PKEY> ec(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
    ASSERT_TRUE(ec) << curve;
    der = nullptr;
    const int ecLength = i2d_PUBKEY(ec.get(), &der);
    auto key = MessageVerifyingKey::fromSpki(ossl::takeDer(der, ecLength));
    ASSERT_FALSE(key) << curve;
    EXPECT_EQ(key.error().code, ErrorCode::kInvalidInput);
  }
}

// An RSA signature is exactly the modulus length (RFC 8017 8.1.2); OpenSSL alone would also take it
// without its leading zero octets.
TEST(MessageKey, RsaSignaturesHaveOneLength) {
  const TestPki pki = TestPki::create();
  const SigningIdentity id = SigningIdentity::issue(pki, SignerKey::kRsa2048);
  auto key = MessageSigningKey::fromPem(id.keyPem, id.certPem);
  auto verifier = MessageVerifyingKey::fromSpki(id.spkiDer);
  ASSERT_TRUE(key && verifier);
  int shortened = 0;
  for (int i = 0; shortened == 0 && i < 5000; ++i) {  // about one signature in 256 starts with 0x00
    const std::string base = "\"@signature-params\": ();created=" + std::to_string(i);
    auto signature = key->sign(base);
    ASSERT_TRUE(signature);
    ASSERT_EQ(signature->size(), 256u);
    ASSERT_TRUE(verifier->verify(base, *signature));
    if ((*signature)[0] != '\0') continue;
    ++shortened;
    EXPECT_FALSE(verifier->verify(base, signature->substr(1)));
  }
  EXPECT_EQ(shortened, 1);
}

// fromSpki keeps parsed keys: a key taken from the cache verifies as a freshly parsed one did, and
// another SPKI (another key, the same key with a byte more, another curve) is never taken for it.
TEST(MessageKey, CachedKeysAreTheSameKeys) {
  const TestPki pki = TestPki::create();
  const std::string base = "\"@signature-params\": ();created=1";
  std::vector<SigningIdentity> ids;
  std::vector<std::string> signatures;
  for (SignerKey type : {SignerKey::kEcP256, SignerKey::kEcP256, SignerKey::kEcP384, SignerKey::kRsa2048,
                         SignerKey::kEd25519}) {
    ids.push_back(SigningIdentity::issue(pki, type));
    auto key = MessageSigningKey::fromPem(ids.back().keyPem, ids.back().certPem);
    ASSERT_TRUE(key);
    auto signature = key->sign(base);
    ASSERT_TRUE(signature);
    signatures.push_back(*signature);
  }
  for (int round = 0; round < 3; ++round) {  // the first parses, the others find the cached key
    for (std::size_t i = 0; i < ids.size(); ++i) {
      auto verifier = MessageVerifyingKey::fromSpki(ids[i].spkiDer);
      ASSERT_TRUE(verifier) << verifier.error().internal;
      for (std::size_t j = 0; j < ids.size(); ++j) {
        EXPECT_EQ(verifier->verify(base, signatures[j]), i == j) << "round " << round << ": key " << i << ", signature " << j;
      }
      EXPECT_FALSE(MessageVerifyingKey::fromSpki(ids[i].spkiDer + "x"));
      EXPECT_FALSE(MessageVerifyingKey::fromSpki(ids[i].spkiDer.substr(0, ids[i].spkiDer.size() - 1)));
    }
  }
  // A key outlives the cache's copy: more distinct keys than the cache holds empty it meanwhile.
  auto held = MessageVerifyingKey::fromSpki(ids[0].spkiDer);
  ASSERT_TRUE(held);
  for (int i = 0; i < 1100; ++i) {
    ossl::UniquePtr<EVP_PKEY> k(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    ASSERT_TRUE(k);
    unsigned char* der = nullptr;
    const int length = i2d_PUBKEY(k.get(), &der);
    ASSERT_TRUE(MessageVerifyingKey::fromSpki(ossl::takeDer(der, length)));
  }
  EXPECT_TRUE(held->verify(base, signatures[0]));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto verifier = MessageVerifyingKey::fromSpki(ids[i].spkiDer);
    ASSERT_TRUE(verifier);
    EXPECT_TRUE(verifier->verify(base, signatures[i]));
    EXPECT_FALSE(verifier->verify(base, signatures[(i + 1) % ids.size()]));
  }
}

// Several threads take the same cached keys and verify at once (the TSan run checks the sharing).
TEST(MessageKey, CachedKeysVerifyFromManyThreads) {
  const TestPki pki = TestPki::create();
  const std::string base = "\"@signature-params\": ();created=2";
  std::vector<SigningIdentity> ids;
  std::vector<std::string> signatures;
  for (SignerKey type : {SignerKey::kEcP256, SignerKey::kEcP384, SignerKey::kRsa2048, SignerKey::kEd25519}) {
    ids.push_back(SigningIdentity::issue(pki, type));
    auto key = MessageSigningKey::fromPem(ids.back().keyPem, ids.back().certPem);
    ASSERT_TRUE(key);
    signatures.push_back(*key->sign(base));
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        const std::size_t k = static_cast<std::size_t>(t + i) % ids.size();
        auto verifier = MessageVerifyingKey::fromSpki(ids[k].spkiDer);
        if (!verifier || !verifier->verify(base, signatures[k]) ||
            verifier->verify(base, signatures[(k + 1) % ids.size()])) {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
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

#include "audit/signing_key.h"


#include <openssl/err.h>
#include <openssl/pem.h>

#include "common/base64.h"
#include "common/file.h"
#include "common/ossl.h"

namespace hie::audit {
namespace {

int noPassphrase(char*, int, int, void*) { return -1; }

std::string bioToString(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string publicPemOf(EVP_PKEY* key) {
  ossl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), key);
  return bioToString(bio.get());
}

std::string rawPublicKeyOf(EVP_PKEY* key) {
  unsigned char raw[32];
  std::size_t len = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1 || len != sizeof raw) {
    ossl::drainErrors();
    return "";
  }
  return std::string(reinterpret_cast<char*>(raw), len);
}

}  // namespace

Result<SigningKey> SigningKey::generate() {
  ossl::UniquePtr<EVP_PKEY> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!key) return fail(ErrorCode::kInternal, "Ed25519 key generation failed: " + ossl::drainErrors());
  return SigningKey(std::shared_ptr<EVP_PKEY>(std::move(key)));
}

Result<SigningKey> SigningKey::fromPem(const std::string& pem) {
  ossl::UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  ossl::UniquePtr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, &noPassphrase, nullptr));
  ossl::drainErrors();
  if (!key) return fail(ErrorCode::kInvalidInput, "no readable unencrypted PEM private key");
  if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) {
    return fail(ErrorCode::kInvalidInput, "the key is not an Ed25519 key (make one with `hie-node audit keygen`)");
  }
  return SigningKey(std::shared_ptr<EVP_PKEY>(std::move(key)));
}

Result<SigningKey> SigningKey::fromPemFile(const std::string& path) {
  auto text = readFile(path, "audit signing key");
  if (!text) return tl::make_unexpected(text.error());
  auto key = fromPem(*text);
  if (!key) return fail(ErrorCode::kInvalidInput, "audit signing key " + path + ": " + key.error().internal);
  return key;
}

std::string SigningKey::privatePem() const {
  ossl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return bioToString(bio.get());
}

std::string SigningKey::publicPem() const { return publicPemOf(key_.get()); }

Result<std::string> SigningKey::sign(const std::string& message) const {
  auto raw = signRaw(message);
  if (!raw) return raw;
  return base64Encode(*raw);
}

std::string SigningKey::rawPublicKey() const { return rawPublicKeyOf(key_.get()); }

Result<std::string> SigningKey::signRaw(const std::string& message) const {
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (!ctx) return fail(ErrorCode::kInternal, "EVP_MD_CTX_new failed");
  unsigned char sig[64];
  std::size_t len = sizeof sig;
  const bool ok = EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) == 1 &&
                  EVP_DigestSign(ctx.get(), sig, &len, reinterpret_cast<const unsigned char*>(message.data()),
                                 message.size()) == 1;
  if (!ok) return fail(ErrorCode::kInternal, "Ed25519 signing failed: " + ossl::drainErrors());
  return std::string(reinterpret_cast<char*>(sig), len);
}

Result<VerifyKey> VerifyKey::fromPem(const std::string& pem) {
  ossl::UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  ossl::UniquePtr<EVP_PKEY> key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    // A private key file also carries the public key.
    ossl::drainErrors();
    auto priv = SigningKey::fromPem(pem);
    if (!priv) return fail(ErrorCode::kInvalidInput, "no readable PEM Ed25519 public key");
    return fromPem(priv->publicPem());
  }
  if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) return fail(ErrorCode::kInvalidInput, "not an Ed25519 key");
  return VerifyKey(std::shared_ptr<EVP_PKEY>(std::move(key)));
}

Result<VerifyKey> VerifyKey::fromPemFile(const std::string& path) {
  auto text = readFile(path, "public key");
  if (!text) return tl::make_unexpected(text.error());
  auto key = fromPem(*text);
  if (!key) return fail(ErrorCode::kInvalidInput, "public key " + path + ": " + key.error().internal);
  return key;
}

std::string VerifyKey::publicPem() const { return publicPemOf(key_.get()); }

Result<VerifyKey> VerifyKey::fromRaw(const std::string& publicKey) {
  if (publicKey.size() != 32) return fail(ErrorCode::kInvalidInput, "an Ed25519 public key is 32 bytes");
  ossl::UniquePtr<EVP_PKEY> key(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(publicKey.data()), publicKey.size()));
  if (!key) {
    ossl::drainErrors();
    return fail(ErrorCode::kInvalidInput, "not an Ed25519 public key");
  }
  return VerifyKey(std::shared_ptr<EVP_PKEY>(std::move(key)));
}

std::string VerifyKey::rawPublicKey() const { return rawPublicKeyOf(key_.get()); }

bool VerifyKey::verify(const std::string& message, const std::string& signatureBase64) const {
  std::string sig;
  if (!base64Decode(signatureBase64, sig) || sig.size() != 64) return false;
  return verifyRaw(message, sig);
}

bool VerifyKey::verifyRaw(const std::string& message, const std::string& sig) const {
  if (sig.size() != 64) return false;
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (!ctx) return false;
  const bool ok = EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) == 1 &&
                  EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                                   reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  ERR_clear_error();
  return ok;
}

}  // namespace hie::audit

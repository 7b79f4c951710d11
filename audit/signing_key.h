// The node's Ed25519 audit key (separate from its TLS key): generate, load,
// sign; and public keys to verify with.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, kept out of this header

namespace hie::audit {

class SigningKey {
 public:
  // A fresh key.
  static Result<SigningKey> generate();
  // From an unencrypted PKCS#8 PEM Ed25519 private key; kInvalidInput naming the file otherwise.
  static Result<SigningKey> fromPemFile(const std::string& path);
  static Result<SigningKey> fromPem(const std::string& pem);

  std::string privatePem() const;
  std::string publicPem() const;
  // Base64 of the signature (64 bytes).
  Result<std::string> sign(const std::string& message) const;
  // The 64 signature bytes.
  Result<std::string> signRaw(const std::string& message) const;
  // The 32-byte Ed25519 public key (RFC 8032 encoding).
  std::string rawPublicKey() const;

 private:
  explicit SigningKey(std::shared_ptr<evp_pkey_st> key) : key_(std::move(key)) {}
  std::shared_ptr<evp_pkey_st> key_;
};

class VerifyKey {
 public:
  static Result<VerifyKey> fromPem(const std::string& pem);
  static Result<VerifyKey> fromPemFile(const std::string& path);
  // From the 32-byte Ed25519 public key.
  static Result<VerifyKey> fromRaw(const std::string& publicKey);
  // False for a malformed or wrong signature.
  bool verify(const std::string& message, const std::string& signatureBase64) const;
  // Over the 64 raw signature bytes.
  bool verifyRaw(const std::string& message, const std::string& signature) const;
  std::string rawPublicKey() const;
  std::string publicPem() const;

 private:
  explicit VerifyKey(std::shared_ptr<evp_pkey_st> key) : key_(std::move(key)) {}
  std::shared_ptr<evp_pkey_st> key_;
};

}  // namespace hie::audit

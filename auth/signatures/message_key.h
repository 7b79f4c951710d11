// The keys behind message signatures: this node's TLS private key (to sign)
// and a peer certificate's public key (to verify). The algorithm follows the
// key type: EC P-256 -> ecdsa-p256-sha256 (signature r||s, 64 bytes), EC P-384 ->
// ecdsa-p384-sha384 (r||s, 96 bytes), RSA -> rsa-pss-sha512 (MGF1 SHA-512, salt
// 64 bytes, signature exactly the modulus length), Ed25519 -> ed25519. Any other
// key type cannot sign or verify (kInvalidInput).
#pragma once

#include <memory>
#include <string>

#include "common/result.h"

namespace hie::auth {

enum class SignatureAlgorithm { kEcdsaP256Sha256, kRsaPssSha512, kEd25519, kEcdsaP384Sha384 };
// "ecdsa-p256-sha256", "rsa-pss-sha512", "ed25519", "ecdsa-p384-sha384"
const char* algorithmName(SignatureAlgorithm algorithm);

// keyid of a certificate: lowercase hex SHA-256 of its DER (the audit's certSha256).
std::string certificateKeyId(const std::string& certificateDer);

class MessageSigningKey {
 public:
  // privateKeyPem: the key of certificatePem's first certificate (the TLS identity); refused if
  // they do not match or the key type has no algorithm. keyId() is that certificate's keyid.
  static Result<MessageSigningKey> fromPem(const std::string& privateKeyPem, const std::string& certificatePem);
  SignatureAlgorithm algorithm() const;
  const std::string& keyId() const;
  const std::string& certificateChainPem() const;  // as given: leaf first
  Result<std::string> sign(const std::string& signatureBase) const;  // raw signature bytes

  ~MessageSigningKey();
  MessageSigningKey(MessageSigningKey&&) noexcept;
  MessageSigningKey& operator=(MessageSigningKey&&) noexcept;

 private:
  struct Impl;
  explicit MessageSigningKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class MessageVerifyingKey {
 public:
  // spkiDer: DER SubjectPublicKeyInfo (PeerIdentity::publicKeyDer). Keys that parse are kept in a
  // process-wide cache (at most 1024, emptied when full) keyed by the exact DER, so a peer's key is
  // decoded once, not per message; the result is the same as without it. Safe from any thread.
  static Result<MessageVerifyingKey> fromSpki(const std::string& spkiDer);
  SignatureAlgorithm algorithm() const;
  // true when rawSignature is a valid signature of signatureBase by this key.
  bool verify(const std::string& signatureBase, const std::string& rawSignature) const;

  ~MessageVerifyingKey();
  MessageVerifyingKey(MessageVerifyingKey&&) noexcept;
  MessageVerifyingKey& operator=(MessageVerifyingKey&&) noexcept;

 private:
  struct Impl;
  explicit MessageVerifyingKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hie::auth

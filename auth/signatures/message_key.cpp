#include "auth/signatures/message_key.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstring>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "common/digest.h"
#include "common/ecdsa_signature.h"
#include "common/ossl.h"

namespace hie::auth {
namespace {

constexpr std::size_t kP256Coordinate = 32;  // r and s are 32 bytes each (RFC 9421 3.3.4)
constexpr std::size_t kP384Coordinate = 48;  // r and s are 48 bytes each (RFC 9421 3.3.5)
constexpr std::size_t kMaxCachedKeys = 1024;
constexpr int kPssSaltLength = 64;          // RFC 9421 3.3.1
constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;

int noPassphrase(char*, int, int, void*) { return 0; }

tl::unexpected<Error> keyError(const std::string& what) {
  return fail(ErrorCode::kInvalidInput, what + ": " + ossl::drainErrors(), what);
}

// The algorithm RFC 9421 names for this key, or nothing when the node cannot use it.
Result<SignatureAlgorithm> algorithmOf(EVP_PKEY* key) {
  const int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_ED25519) return SignatureAlgorithm::kEd25519;
  if (id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS) {
    const int bits = EVP_PKEY_get_bits(key);
    if (bits < kMinRsaBits || bits > kMaxRsaBits) {
      return fail(ErrorCode::kInvalidInput, "an RSA key of " + std::to_string(bits) + " bits",
                  "RSA keys for message signatures have 2048 to 8192 bits");
    }
    return SignatureAlgorithm::kRsaPssSha512;
  }
  if (id == EVP_PKEY_EC) {
    char group[64] = {0};
    std::size_t length = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof group, &length) == 1) {
      if (std::strcmp(group, "prime256v1") == 0 || std::strcmp(group, "P-256") == 0) {
        return SignatureAlgorithm::kEcdsaP256Sha256;
      }
      if (std::strcmp(group, "secp384r1") == 0 || std::strcmp(group, "P-384") == 0) {
        return SignatureAlgorithm::kEcdsaP384Sha384;
      }
    }
    ossl::drainErrors();
    return fail(ErrorCode::kInvalidInput, std::string("an EC key on curve ") + group,
                "EC keys for message signatures are on P-256 or P-384");
  }
  return fail(ErrorCode::kInvalidInput, "a key of type " + std::to_string(id),
              "the key type has no message signature algorithm (EC P-256 and P-384, RSA and Ed25519 do)");
}

const EVP_MD* digestOf(SignatureAlgorithm algorithm) {
  switch (algorithm) {
    case SignatureAlgorithm::kEcdsaP256Sha256:
      return EVP_sha256();
    case SignatureAlgorithm::kEcdsaP384Sha384:
      return EVP_sha384();
    case SignatureAlgorithm::kRsaPssSha512:
      return EVP_sha512();
    case SignatureAlgorithm::kEd25519:
      return nullptr;  // Ed25519 hashes internally
  }
  return nullptr;
}

// RSASSA-PSS, MGF1 with SHA-512, salt 64 bytes (RFC 9421 3.3.1).
bool usePss(EVP_PKEY_CTX* pctx) {
  return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, kPssSaltLength) > 0 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha512()) > 0;
}

// The size of r and of s in the raw form of an ECDSA algorithm's signatures; 0 for the others.
std::size_t ecdsaCoordinate(SignatureAlgorithm algorithm) {
  switch (algorithm) {
    case SignatureAlgorithm::kEcdsaP256Sha256:
      return kP256Coordinate;
    case SignatureAlgorithm::kEcdsaP384Sha384:
      return kP384Coordinate;
    case SignatureAlgorithm::kRsaPssSha512:
    case SignatureAlgorithm::kEd25519:
      return 0;
  }
  return 0;
}

// Parsed peer keys by their SPKI DER. d2i_PUBKEY goes through OpenSSL 3's decoder framework and
// was ~2/3 of the CPU of a verification; a node sees few distinct peer keys. An EVP_PKEY that is
// no longer modified may be used from several threads at once (each with its own EVP_MD_CTX),
// so every MessageVerifyingKey holds its own reference (EVP_PKEY_up_ref) to the cached one. Only
// keys that parsed and have an algorithm are kept; when full the cache is emptied, which costs
// one decode per key afterwards and needs no bookkeeping on the hit path.
class VerifyingKeyCache {
 public:
  struct Entry {
    ossl::UniquePtr<EVP_PKEY> key;
    SignatureAlgorithm algorithm;
  };

  // A new reference to the cached key of spkiDer, with its algorithm.
  std::optional<Entry> find(const std::string& spkiDer) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto at = entries_.find(spkiDer);
    if (at == entries_.end() || EVP_PKEY_up_ref(at->second.key.get()) != 1) return std::nullopt;
    return Entry{ossl::UniquePtr<EVP_PKEY>(at->second.key.get()), at->second.algorithm};
  }

  void insert(const std::string& spkiDer, EVP_PKEY* key, SignatureAlgorithm algorithm) {
    if (EVP_PKEY_up_ref(key) != 1) return;
    ossl::UniquePtr<EVP_PKEY> reference(key);
    std::lock_guard<std::mutex> lock(mutex_);
    if (entries_.size() >= kMaxCachedKeys) entries_.clear();
    entries_.emplace(spkiDer, Entry{std::move(reference), algorithm});
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

VerifyingKeyCache& verifyingKeyCache() {
  static VerifyingKeyCache* cache = new VerifyingKeyCache();  // never destroyed: used until exit
  return *cache;
}

}  // namespace

const char* algorithmName(SignatureAlgorithm algorithm) {
  switch (algorithm) {
    case SignatureAlgorithm::kEcdsaP256Sha256:
      return "ecdsa-p256-sha256";
    case SignatureAlgorithm::kRsaPssSha512:
      return "rsa-pss-sha512";
    case SignatureAlgorithm::kEd25519:
      return "ed25519";
    case SignatureAlgorithm::kEcdsaP384Sha384:
      return "ecdsa-p384-sha384";
  }
  return "?";
}

std::string certificateKeyId(const std::string& certificateDer) { return sha256Hex(certificateDer); }

struct MessageSigningKey::Impl {
  ossl::UniquePtr<EVP_PKEY> key;
  SignatureAlgorithm algorithm = SignatureAlgorithm::kEcdsaP256Sha256;
  std::string keyId;
  std::string chainPem;
};

MessageSigningKey::MessageSigningKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MessageSigningKey::~MessageSigningKey() = default;
MessageSigningKey::MessageSigningKey(MessageSigningKey&&) noexcept = default;
MessageSigningKey& MessageSigningKey::operator=(MessageSigningKey&&) noexcept = default;

Result<MessageSigningKey> MessageSigningKey::fromPem(const std::string& privateKeyPem,
                                                     const std::string& certificatePem) {
  ERR_clear_error();
  auto impl = std::make_unique<Impl>();
  {
    ossl::UniquePtr<BIO> bio(BIO_new_mem_buf(privateKeyPem.data(), static_cast<int>(privateKeyPem.size())));
    if (bio) impl->key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, &noPassphrase, nullptr));
    if (!impl->key) return keyError("no readable unencrypted PEM private key");
  }
  ossl::UniquePtr<X509> cert;
  {
    ossl::UniquePtr<BIO> bio(BIO_new_mem_buf(certificatePem.data(), static_cast<int>(certificatePem.size())));
    if (bio) cert.reset(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) return keyError("no readable PEM certificate");
  }
  if (EVP_PKEY_eq(X509_get0_pubkey(cert.get()), impl->key.get()) != 1) {
    ossl::drainErrors();
    return fail(ErrorCode::kInvalidInput, "the private key is not the certificate's",
                "the private key does not match the certificate");
  }
  auto algorithm = algorithmOf(impl->key.get());
  if (!algorithm) return tl::make_unexpected(algorithm.error());
  impl->algorithm = *algorithm;
  unsigned char* der = nullptr;
  const int length = i2d_X509(cert.get(), &der);
  const std::string certDer = ossl::takeDer(der, length);
  if (certDer.empty()) return keyError("the certificate cannot be encoded");
  impl->keyId = certificateKeyId(certDer);
  impl->chainPem = certificatePem;
  return MessageSigningKey(std::move(impl));
}

SignatureAlgorithm MessageSigningKey::algorithm() const { return impl_->algorithm; }
const std::string& MessageSigningKey::keyId() const { return impl_->keyId; }
const std::string& MessageSigningKey::certificateChainPem() const { return impl_->chainPem; }

Result<std::string> MessageSigningKey::sign(const std::string& signatureBase) const {
  // A fresh context per signature (NOTES: a reused Ed25519 context signed wrongly).
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, digestOf(impl_->algorithm), nullptr, impl_->key.get()) != 1 ||
      (impl_->algorithm == SignatureAlgorithm::kRsaPssSha512 && !usePss(pctx))) {
    return fail(ErrorCode::kInternal, "message signature init: " + ossl::drainErrors(), "internal error");
  }
  const auto* data = reinterpret_cast<const unsigned char*>(signatureBase.data());
  std::size_t length = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &length, data, signatureBase.size()) != 1) {
    return fail(ErrorCode::kInternal, "message signature size: " + ossl::drainErrors(), "internal error");
  }
  std::string out(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &length, data, signatureBase.size()) != 1) {
    return fail(ErrorCode::kInternal, "message signature: " + ossl::drainErrors(), "internal error");
  }
  out.resize(length);
  const std::size_t coordinate = ecdsaCoordinate(impl_->algorithm);
  if (coordinate == 0) return out;
  auto raw = ecdsaDerToRaw(out, coordinate);
  if (!raw) return fail(ErrorCode::kInternal, "ECDSA signature conversion: " + ossl::drainErrors(), "internal error");
  return *raw;
}

struct MessageVerifyingKey::Impl {
  ossl::UniquePtr<EVP_PKEY> key;
  SignatureAlgorithm algorithm = SignatureAlgorithm::kEcdsaP256Sha256;
};

MessageVerifyingKey::MessageVerifyingKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MessageVerifyingKey::~MessageVerifyingKey() = default;
MessageVerifyingKey::MessageVerifyingKey(MessageVerifyingKey&&) noexcept = default;
MessageVerifyingKey& MessageVerifyingKey::operator=(MessageVerifyingKey&&) noexcept = default;

Result<MessageVerifyingKey> MessageVerifyingKey::fromSpki(const std::string& spkiDer) {
  auto impl = std::make_unique<Impl>();
  if (auto cached = verifyingKeyCache().find(spkiDer)) {
    impl->key = std::move(cached->key);
    impl->algorithm = cached->algorithm;
    return MessageVerifyingKey(std::move(impl));
  }
  ERR_clear_error();
  const auto* p = reinterpret_cast<const unsigned char*>(spkiDer.data());
  impl->key.reset(d2i_PUBKEY(nullptr, &p, static_cast<long>(spkiDer.size())));
  if (!impl->key || p != reinterpret_cast<const unsigned char*>(spkiDer.data()) + spkiDer.size()) {
    return keyError("no readable SubjectPublicKeyInfo");
  }
  auto algorithm = algorithmOf(impl->key.get());
  if (!algorithm) return tl::make_unexpected(algorithm.error());
  impl->algorithm = *algorithm;
  verifyingKeyCache().insert(spkiDer, impl->key.get(), impl->algorithm);
  return MessageVerifyingKey(std::move(impl));
}

SignatureAlgorithm MessageVerifyingKey::algorithm() const { return impl_->algorithm; }

bool MessageVerifyingKey::verify(const std::string& signatureBase, const std::string& rawSignature) const {
  std::string signature = rawSignature;
  if (const std::size_t coordinate = ecdsaCoordinate(impl_->algorithm); coordinate != 0) {
    auto der = ecdsaRawToDer(rawSignature, coordinate);
    if (!der) {
      ossl::drainErrors();
      return false;
    }
    signature = std::move(*der);
  } else if (impl_->algorithm == SignatureAlgorithm::kEd25519 && rawSignature.size() != 64) {
    return false;
  } else if (impl_->algorithm == SignatureAlgorithm::kRsaPssSha512 &&
             rawSignature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(impl_->key.get()))) {
    // RFC 8017 8.1.2: the signature is exactly k octets. OpenSSL also takes one with its leading
    // zero octets left out; refused, so that one signature has one encoding.
    return false;
  }
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), &pctx, digestOf(impl_->algorithm), nullptr, impl_->key.get()) == 1 &&
            (impl_->algorithm != SignatureAlgorithm::kRsaPssSha512 || usePss(pctx)) &&
            EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                             reinterpret_cast<const unsigned char*>(signatureBase.data()), signatureBase.size()) == 1;
  ossl::drainErrors();
  return ok;
}

}  // namespace hie::auth

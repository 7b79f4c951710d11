#include "auth/udap/jws_crypto.h"

#include <cstdint>
#include <cstring>

#include <openssl/core_names.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "common/base64.h"
#include "common/ecdsa_signature.h"
#include "common/json_writer.h"

namespace hie::auth::udap {

namespace {

constexpr int kMinRsaBits = 2048;

// What kind of key a key is, as far as JOSE cares.
enum class KeyKind { kRsa, kP256, kP384, kOther };

KeyKind keyKind(EVP_PKEY* key) {
  if (key == nullptr) return KeyKind::kOther;
  int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_RSA) return EVP_PKEY_get_bits(key) >= kMinRsaBits ? KeyKind::kRsa : KeyKind::kOther;
  if (id != EVP_PKEY_EC) return KeyKind::kOther;
  char group[64] = {0};
  std::size_t length = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &length) != 1) {
    ossl::drainErrors();
    return KeyKind::kOther;
  }
  std::string name(group, length);
  if (name == "prime256v1" || name == "P-256") return KeyKind::kP256;
  if (name == "secp384r1" || name == "P-384") return KeyKind::kP384;
  return KeyKind::kOther;
}

KeyKind kindFor(JwsAlgorithm algorithm) {
  switch (algorithm) {
    case JwsAlgorithm::kRS256:
    case JwsAlgorithm::kRS384:
      return KeyKind::kRsa;
    case JwsAlgorithm::kES256:
      return KeyKind::kP256;
    case JwsAlgorithm::kES384:
      return KeyKind::kP384;
  }
  return KeyKind::kOther;
}

const EVP_MD* digestFor(JwsAlgorithm algorithm) {
  switch (algorithm) {
    case JwsAlgorithm::kRS256:
    case JwsAlgorithm::kES256:
      return EVP_sha256();
    case JwsAlgorithm::kRS384:
    case JwsAlgorithm::kES384:
      return EVP_sha384();
  }
  return nullptr;
}

// Bytes of one ECDSA coordinate for the algorithm; 0 for RSA.
std::size_t coordinateBytes(JwsAlgorithm algorithm) {
  if (algorithm == JwsAlgorithm::kES256) return 32;
  if (algorithm == JwsAlgorithm::kES384) return 48;
  return 0;
}

const unsigned char* bytes(const std::string& s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// Signs signingInput with key for algorithm; the JOSE signature bytes (ES*: r||s).
Result<std::string> signInput(EVP_PKEY* key, JwsAlgorithm algorithm, const std::string& signingInput) {
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, digestFor(algorithm), nullptr, key) != 1 ||
      (kindFor(algorithm) == KeyKind::kRsa && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)) {
    return fail(ErrorCode::kInternal, "JWS signing setup failed: " + ossl::drainErrors(), "signing failed");
  }
  std::size_t length = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &length, bytes(signingInput), signingInput.size()) != 1) {
    return fail(ErrorCode::kInternal, "JWS signing failed: " + ossl::drainErrors(), "signing failed");
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, bytes(signingInput),
                     signingInput.size()) != 1) {
    return fail(ErrorCode::kInternal, "JWS signing failed: " + ossl::drainErrors(), "signing failed");
  }
  signature.resize(length);
  std::size_t coordinate = coordinateBytes(algorithm);
  if (coordinate == 0) return signature;
  std::optional<std::string> raw = ecdsaDerToRaw(signature, coordinate);
  if (!raw) return fail(ErrorCode::kInternal, "ECDSA signature not convertible to r||s", "signing failed");
  return *raw;
}

Result<std::string> signWithHeader(EVP_PKEY* key, const std::string& headerJson, JwsAlgorithm algorithm,
                                   const std::string& claimsJson) {
  std::string signingInput = base64UrlEncode(headerJson) + "." + base64UrlEncode(claimsJson);
  Result<std::string> signature = signInput(key, algorithm, signingInput);
  if (!signature) return tl::make_unexpected(signature.error());
  return signingInput + "." + base64UrlEncode(*signature);
}

}  // namespace

std::optional<JwsRefusal> verifyJwsSignature(const ParsedJws& jws, EVP_PKEY* key) {
  if (keyKind(key) != kindFor(jws.algorithm)) {
    return JwsRefusal{"jws_key_mismatch",
                      std::string("The certificate's key is not a key for ") + jwsAlgorithmName(jws.algorithm) + "."};
  }
  std::string signature = jws.signature;
  std::size_t coordinate = coordinateBytes(jws.algorithm);
  if (coordinate != 0) {
    std::optional<std::string> der = ecdsaRawToDer(jws.signature, coordinate);
    if (!der) {
      return JwsRefusal{"jws_signature", std::string("An ") + jwsAlgorithmName(jws.algorithm) + " signature is " +
                                             std::to_string(2 * coordinate) + " bytes (r||s)."};
    }
    signature = std::move(*der);
  }
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, digestFor(jws.algorithm), nullptr, key) != 1 ||
      (coordinate == 0 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)) {
    ossl::drainErrors();
    return JwsRefusal{"jws_key_mismatch", "The certificate's key cannot verify this JWS."};
  }
  int ok = EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), bytes(jws.signingInput),
                            jws.signingInput.size());
  if (ok != 1) {
    ossl::drainErrors();
    return JwsRefusal{"jws_signature", "The JWS signature does not verify with the x5c leaf's key."};
  }
  return std::nullopt;
}

tl::expected<X5cChain, JwsRefusal> decodeX5c(const ParsedJws& jws) {
  if (jws.x5cDer.empty()) {
    return tl::make_unexpected(JwsRefusal{"jws_x5c_missing", "The JWS header has no x5c certificate chain."});
  }
  X5cChain chain;
  chain.untrusted.reset(sk_X509_new_null());
  if (!chain.untrusted) return tl::make_unexpected(JwsRefusal{"jws_x5c_not_der", "Out of memory."});
  for (std::size_t i = 0; i < jws.x5cDer.size(); ++i) {
    const std::string& der = jws.x5cDer[i];
    const unsigned char* p = bytes(der);
    ossl::UniquePtr<X509> cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    if (!cert || p != bytes(der) + der.size()) {
      ossl::drainErrors();
      return tl::make_unexpected(JwsRefusal{
          "jws_x5c_not_der", "x5c entry " + std::to_string(i) + " is not exactly one DER certificate."});
    }
    if (i == 0) {
      chain.leaf = std::move(cert);
    } else {
      if (sk_X509_push(chain.untrusted.get(), cert.get()) == 0) {
        return tl::make_unexpected(JwsRefusal{"jws_x5c_not_der", "Out of memory."});
      }
      cert.release();  // owned by the stack now
    }
  }
  return chain;
}

std::optional<JwsRefusal> checkSigningKeyUsage(X509* leaf) {
  if (leaf == nullptr) return JwsRefusal{"x5c_key_usage", "The x5c leaf is missing."};
  // X509_get_extension_flags decodes the extensions once; EXFLAG_INVALID: one of them did not decode.
  const std::uint32_t flags = X509_get_extension_flags(leaf);
  if ((flags & EXFLAG_INVALID) != 0) {
    return JwsRefusal{"x5c_key_usage", "The x5c leaf has an extension that cannot be decoded."};
  }
  if ((flags & EXFLAG_KUSAGE) == 0) return std::nullopt;  // no keyUsage: no restriction
  if ((X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE) == 0) {
    return JwsRefusal{"x5c_key_usage", "The x5c leaf's keyUsage does not include digitalSignature."};
  }
  return std::nullopt;
}

Result<JwsAlgorithm> algorithmForKey(EVP_PKEY* key) {
  switch (keyKind(key)) {
    case KeyKind::kRsa:
      return JwsAlgorithm::kRS256;
    case KeyKind::kP256:
      return JwsAlgorithm::kES256;
    case KeyKind::kP384:
      return JwsAlgorithm::kES384;
    case KeyKind::kOther:
      break;
  }
  return fail(ErrorCode::kInvalidInput,
              "a JWS key is RSA of at least 2048 bits, EC P-256 or EC P-384 (UDAP allows no other)");
}

Result<std::string> signJws(EVP_PKEY* key, const std::vector<std::string>& x5cDer, const std::string& typ,
                            const std::string& claimsJson) {
  Result<JwsAlgorithm> algorithm = algorithmForKey(key);
  if (!algorithm) return tl::make_unexpected(algorithm.error());
  JsonWriter header;
  header.beginObject().member("alg", jwsAlgorithmName(*algorithm));
  if (!typ.empty()) header.member("typ", typ);
  header.key("x5c").beginArray();
  for (const std::string& der : x5cDer) header.value(base64Encode(der));
  header.endArray().endObject();
  return signWithHeader(key, header.take(), *algorithm, claimsJson);
}

Result<std::string> signJwsWithoutX5c(EVP_PKEY* key, const std::string& typ, const std::string& kid,
                                      const std::string& claimsJson) {
  Result<JwsAlgorithm> algorithm = algorithmForKey(key);
  if (!algorithm) return tl::make_unexpected(algorithm.error());
  JsonWriter header;
  header.beginObject().member("alg", jwsAlgorithmName(*algorithm));
  if (!typ.empty()) header.member("typ", typ);
  if (!kid.empty()) header.member("kid", kid);
  header.endObject();
  return signWithHeader(key, header.take(), *algorithm, claimsJson);
}

std::string certificateDer(X509* cert) {
  if (cert == nullptr) return {};
  unsigned char* der = nullptr;
  int length = i2d_X509(cert, &der);
  return ossl::takeDer(der, length);
}

std::string certificateThumbprintS256(X509* cert) {
  std::string der = certificateDer(cert);
  if (der.empty()) return {};  // no certificate: nothing to bind to (never the hash of zero bytes)
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(bytes(der), der.size(), digest);
  return base64UrlEncode(std::string(reinterpret_cast<const char*>(digest), sizeof digest));
}

}  // namespace hie::auth::udap

// Keys and helpers the UDAP unit tests share: fresh keys of each kind JOSE
// allows (and some it does not), and public keys built from RFC 7515's JWKs.
#pragma once

#include <stdexcept>
#include <string>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "common/base64.h"
#include "common/ossl.h"

namespace hie::testing::udap {

inline ossl::UniquePtr<EVP_PKEY> ecKey(const char* curve) {
  ossl::UniquePtr<EVP_PKEY> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
  if (!key) throw std::runtime_error("EC keygen");
  return key;
}

inline ossl::UniquePtr<EVP_PKEY> rsaKey(std::size_t bits) {
  ossl::UniquePtr<EVP_PKEY> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits));
  if (!key) throw std::runtime_error("RSA keygen");
  return key;
}

inline std::string b64u(const std::string& text) {
  std::string out;
  if (!base64UrlDecode(text, out)) throw std::runtime_error("bad base64url in a test vector: " + text);
  return out;
}

inline const unsigned char* u(const std::string& s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// An RSA public key from a JWK's n and e (base64url).
inline ossl::UniquePtr<EVP_PKEY> rsaFromJwk(const std::string& n, const std::string& e) {
  const std::string nb = b64u(n), eb = b64u(e);
  ossl::UniquePtr<BIGNUM> bn(BN_bin2bn(u(nb), static_cast<int>(nb.size()), nullptr));
  ossl::UniquePtr<BIGNUM> be(BN_bin2bn(u(eb), static_cast<int>(eb.size()), nullptr));
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn.get());
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be.get());
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
  EVP_PKEY* key = nullptr;
  EVP_PKEY_fromdata_init(ctx);
  EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  if (key == nullptr) throw std::runtime_error("RSA JWK");
  return ossl::UniquePtr<EVP_PKEY>(key);
}

// An EC public key from a JWK's crv (OpenSSL group name) and x, y (base64url).
inline ossl::UniquePtr<EVP_PKEY> ecFromJwk(const char* group, const std::string& x, const std::string& y) {
  const std::string point = "\x04" + b64u(x) + b64u(y);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* key = nullptr;
  EVP_PKEY_fromdata_init(ctx);
  EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  if (key == nullptr) throw std::runtime_error("EC JWK");
  return ossl::UniquePtr<EVP_PKEY>(key);
}

}  // namespace hie::testing::udap

#include "common/ecdsa_signature.h"

#include <openssl/bn.h>
#include <openssl/ec.h>

#include "common/ossl.h"

namespace hie {

// DER ECDSA-Sig-Value -> r || s, each zero-padded to `coordinate` bytes (RFC 9421 3.3.4, 3.3.5).
std::optional<std::string> ecdsaDerToRaw(const std::string& der, std::size_t coordinate) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ossl::UniquePtr<ECDSA_SIG> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return std::nullopt;
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(2 * coordinate, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  const int width = static_cast<int>(coordinate);
  if (BN_bn2binpad(r, out, width) != width || BN_bn2binpad(s, out + coordinate, width) != width) {
    return std::nullopt;
  }
  return raw;
}

// r || s -> DER ECDSA-Sig-Value; nullopt unless raw is exactly 2 * coordinate bytes.
std::optional<std::string> ecdsaRawToDer(const std::string& raw, std::size_t coordinate) {
  if (raw.size() != 2 * coordinate) return std::nullopt;
  const auto* in = reinterpret_cast<const unsigned char*>(raw.data());
  const int width = static_cast<int>(coordinate);
  ossl::UniquePtr<BIGNUM> r(BN_bin2bn(in, width, nullptr));
  ossl::UniquePtr<BIGNUM> s(BN_bin2bn(in + coordinate, width, nullptr));
  ossl::UniquePtr<ECDSA_SIG> sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return std::nullopt;
  r.release();  // owned by sig now
  s.release();
  unsigned char* der = nullptr;
  const int length = i2d_ECDSA_SIG(sig.get(), &der);
  std::string out = ossl::takeDer(der, length);
  if (out.empty()) return std::nullopt;
  return out;
}

}  // namespace hie

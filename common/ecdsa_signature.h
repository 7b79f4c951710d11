// ECDSA signatures in the two forms they travel in: r || s (fixed width, as
// RFC 9421 and JOSE carry them) and a DER ECDSA-Sig-Value (SEQUENCE { INTEGER
// r, INTEGER s }, what OpenSSL and `openssl dgst -verify` take).
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace hie {

// r || s -> DER; nullopt unless raw is exactly 2 * coordinate bytes.
std::optional<std::string> ecdsaRawToDer(const std::string& raw, std::size_t coordinate);
// DER -> r || s of 2 * coordinate bytes; nullopt for malformed DER or a value wider than coordinate.
std::optional<std::string> ecdsaDerToRaw(const std::string& der, std::size_t coordinate);

}  // namespace hie

// Hexadecimal text: the one place that writes it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace hie {

// Two lower-case hex digits per byte.
std::string lowerHex(const unsigned char* data, std::size_t length);
std::string lowerHex(std::string_view bytes);
// Appends the byte as two hex digits (upper-case for %XX escapes).
void appendHexByte(std::string& out, unsigned char byte, bool upperCase);
// length bytes from OpenSSL's CSPRNG as lower-case hex; aborts when the
// CSPRNG fails (a broken invariant, not bad input).
std::string randomHex(std::size_t length);

}  // namespace hie

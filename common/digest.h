// Lower-case hex and SHA-256 helpers.
#pragma once

#include <cstddef>
#include <string>

namespace hie {

std::string lowerHex(const unsigned char* data, std::size_t length);
// Lower-case hex SHA-256 of bytes.
std::string sha256Hex(const std::string& bytes);

}  // namespace hie

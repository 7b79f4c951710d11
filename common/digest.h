// SHA-256 as lower-case hex.
#pragma once

#include <cstddef>
#include <string>

namespace hie {

// Lower-case hex SHA-256 of bytes.
std::string sha256Hex(const std::string& bytes);

}  // namespace hie

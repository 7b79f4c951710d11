#include "common/hex.h"

#include <cstdlib>
#include <vector>

#include <openssl/rand.h>

namespace hie {

void appendHexByte(std::string& out, unsigned char byte, bool upperCase) {
  static const char kLower[] = "0123456789abcdef";
  static const char kUpper[] = "0123456789ABCDEF";
  const char* digits = upperCase ? kUpper : kLower;
  out.push_back(digits[byte >> 4]);
  out.push_back(digits[byte & 0x0f]);
}

std::string lowerHex(const unsigned char* data, std::size_t length) {
  std::string out;
  out.reserve(length * 2);
  for (std::size_t i = 0; i < length; ++i) appendHexByte(out, data[i], false);
  return out;
}

std::string lowerHex(std::string_view bytes) {
  return lowerHex(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

std::string randomHex(std::size_t length) {
  std::vector<unsigned char> bytes(length);
  if (length > 0 && RAND_bytes(bytes.data(), static_cast<int>(length)) != 1) std::abort();
  return lowerHex(bytes.data(), bytes.size());
}

}  // namespace hie

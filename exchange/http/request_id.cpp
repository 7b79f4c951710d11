#include "exchange/http/request_id.h"

#include <openssl/rand.h>

#include <cstdlib>

namespace hie::exchange {

bool isAcceptableRequestId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string newRequestId() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // The CSPRNG failing is a broken invariant, not bad input.
    std::abort();
  }
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

std::string requestIdFor(const std::string& incoming) {
  return isAcceptableRequestId(incoming) ? incoming : newRequestId();
}

}  // namespace hie::exchange

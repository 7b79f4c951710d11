#include "exchange/http/request_id.h"

#include "common/hex.h"

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
  return randomHex(16);
}

std::string requestIdFor(const std::string& incoming) {
  return isAcceptableRequestId(incoming) ? incoming : newRequestId();
}

}  // namespace hie::exchange

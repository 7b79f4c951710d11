#include "exchange/http/http_call.h"

#include <strings.h>

namespace hie::exchange {

std::string HttpCall::headerLines(const std::string& name) const {
  std::string out;
  bool first = true;
  for (const auto& [key, value] : headers) {
    if (strcasecmp(key.c_str(), name.c_str()) != 0) continue;
    if (!first) out += ", ";
    out += value;
    first = false;
  }
  return out;
}

}  // namespace hie::exchange

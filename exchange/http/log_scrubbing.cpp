#include "exchange/http/log_scrubbing.h"

#include <strings.h>

#include "common/hex.h"

namespace hie::exchange {

std::string scrubForLog(const std::string& text, std::size_t max) {
  std::string out;
  for (unsigned char c : text.substr(0, max)) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      appendHexByte(out, c, false);
    }
  }
  if (text.size() > max) out += "...";
  return out;
}

std::string headerValueForLog(const std::string& name, const std::string& value, std::size_t max) {
  if (strcasecmp(name.c_str(), "Authorization") == 0 || strcasecmp(name.c_str(), "Proxy-Authorization") == 0) {
    // The scheme is no secret and tells an operator what was sent; what follows it is.
    const std::string scheme = value.substr(0, value.find(' '));
    const bool plainScheme = !scheme.empty() && scheme.size() <= 16 &&
                             scheme.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") ==
                                 std::string::npos;
    return plainScheme && scheme.size() < value.size() ? scheme + " [redacted]" : "[redacted]";
  }
  return scrubForLog(value, max);
}

std::string pathForLog(const std::string& rawPath) {
  static const std::string kFhir = "/fhir/";
  if (rawPath.compare(0, kFhir.size(), kFhir) != 0) return rawPath;
  if (rawPath == "/fhir/.well-known/udap") return rawPath;  // UDAP discovery names no record
  const auto slash = rawPath.find('/', kFhir.size());
  if (slash == std::string::npos) return rawPath;
  return rawPath.substr(0, slash) + "/{id}";
}

}  // namespace hie::exchange

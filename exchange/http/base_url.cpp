#include "exchange/http/base_url.h"

#include <arpa/inet.h>
#include <strings.h>

namespace hie::exchange {
namespace {

bool isDnsName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  std::size_t label = 0;  // length of the current label
  char previous = '.';
  for (char c : host) {
    if (c == '.') {
      if (label == 0 || previous == '-') return false;
      label = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-') {
      if ((label == 0 && c == '-') || ++label > 63) return false;
    } else {
      return false;
    }
    previous = c;
  }
  return label > 0 && previous != '-';
}

bool isIpv6Literal(std::string_view address) {
  if (address.empty() || address.size() > 45) return false;  // INET6_ADDRSTRLEN - 1
  const std::string text(address);                            // inet_pton needs a terminated string
  unsigned char buf[16];
  return inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

bool isPort(std::string_view port) {
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) return false;
  const unsigned long value = std::stoul(std::string(port));
  return value >= 1 && value <= 65535;
}

}  // namespace

bool isPlainAuthority(std::string_view authority) {
  std::string_view host = authority;
  std::string_view port;
  bool hasPort = false;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos || !isIpv6Literal(authority.substr(1, close - 1))) return false;
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      hasPort = true;
      port = rest.substr(1);
    }
    return !hasPort || isPort(port);
  }
  const std::size_t colon = authority.find(':');
  if (colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    hasPort = true;
  }
  return isDnsName(host) && (!hasPort || isPort(port));
}

bool isPlainBaseUrl(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  if (url.substr(0, kScheme.size()) != kScheme) return false;
  const std::string_view rest = url.substr(kScheme.size());
  const std::size_t slash = rest.find('/');
  if (!isPlainAuthority(rest.substr(0, slash))) return false;
  if (slash == std::string_view::npos) return true;
  for (char c : rest.substr(slash)) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '.' || c == '_' || c == '~' || c == '/';
    if (!ok) return false;
  }
  return true;
}

std::string publicBaseUrl(const std::string& configured, const HttpCall& call) {
  if (!configured.empty()) return configured;
  int hosts = 0;
  const std::string* host = nullptr;
  for (const auto& [name, value] : call.headers) {
    if (strcasecmp(name.c_str(), "Host") == 0) {
      ++hosts;
      host = &value;
    }
  }
  // RFC 9112 3.2: more than one Host field is a malformed request; none is HTTP/1.0.
  if (hosts == 1 && isPlainAuthority(*host)) return "https://" + *host;
  if (isPlainAuthority(call.localAddress)) return "https://" + call.localAddress;
  return "https://localhost";
}

}  // namespace hie::exchange

#include "exchange/peers/peer_url.h"

#include <arpa/inet.h>

#include <cctype>

namespace hie::exchange {
namespace {

Error bad(const std::string& why) {
  return Error{ErrorCode::kInvalidInput, "peer URL: " + why, "peer URL: " + why};
}

bool validHost(const std::string& h) {
  if (h.empty() || h.size() > 253) return false;
  unsigned char buf[16];
  if (inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1) return true;
  for (char c : h) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) return false;
  }
  return h.front() != '.' && h.front() != '-';
}

}  // namespace

bool PeerUrl::hostIsIp() const {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string PeerUrl::text() const {
  const bool v6 = host.find(':') != std::string::npos;
  return "https://" + (v6 ? "[" + host + "]" : host) + (port == 443 ? "" : ":" + std::to_string(port)) + pathPrefix;
}

Result<PeerUrl> parsePeerUrl(const std::string& url) {
  static const std::string kScheme = "https://";
  if (url.size() > 512) return tl::make_unexpected(bad("too long"));
  if (url.compare(0, kScheme.size(), kScheme) != 0) return tl::make_unexpected(bad("must start with https://"));
  std::string rest = url.substr(kScheme.size());
  if (rest.find_first_of("?#@ \t\r\n\\") != std::string::npos) {
    return tl::make_unexpected(bad("must not contain user info, a query, a fragment or white space"));
  }
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  PeerUrl out;
  if (slash != std::string::npos) {
    out.pathPrefix = rest.substr(slash);
    while (!out.pathPrefix.empty() && out.pathPrefix.back() == '/') out.pathPrefix.pop_back();
  }
  std::string portText;
  bool hasPort = false;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) return tl::make_unexpected(bad("unclosed [ in the host"));
    out.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return tl::make_unexpected(bad("unexpected text after the host"));
      portText = authority.substr(close + 2);
      hasPort = true;
    }
  } else {
    const auto colon = authority.find(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos) {
      portText = authority.substr(colon + 1);
      hasPort = true;
    }
  }
  if (!validHost(out.host)) return tl::make_unexpected(bad("'" + out.host + "' is not a host name or IP address"));
  if (hasPort) {
    if (portText.empty() || portText.size() > 5 || portText.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(portText) < 1 || std::stoi(portText) > 65535) {
      return tl::make_unexpected(bad("the port must be a number from 1 to 65535"));
    }
    out.port = static_cast<std::uint16_t>(std::stoi(portText));
  }
  return out;
}

}  // namespace hie::exchange

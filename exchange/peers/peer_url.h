// Base URLs of peer nodes: https only, a host, an optional port and path
// prefix; nothing else (no user info, query or fragment).
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace hie::exchange {

struct PeerUrl {
  std::string host;        // DNS name or IP literal (without brackets)
  std::uint16_t port = 443;
  std::string pathPrefix;  // "" or "/something" without a trailing slash
  std::string text() const;  // canonical https://host[:port][/prefix]
  bool hostIsIp() const;
};

// kInvalidInput with a sentence saying what is wrong.
Result<PeerUrl> parsePeerUrl(const std::string& url);

}  // namespace hie::exchange

#include "exchange/peers/peer_url.h"

#include <arpa/inet.h>

#include <Poco/Exception.h>
#include <Poco/URI.h>

#include "exchange/http/base_url.h"

namespace hie::exchange {
namespace {

Error bad(const std::string& why) {
  return Error{ErrorCode::kInvalidInput, "peer URL: " + why, "peer URL: " + why};
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
  if (url.find_first_of("?#@ \t\r\n\\") != std::string::npos) {
    return tl::make_unexpected(bad("must not contain user info, a query, a fragment or white space"));
  }
  // The same syntax as server.baseUrl (a plain host name or IP address, a port
  // 1-65535, a path of unreserved characters), checked before Poco::URI splits
  // it: Poco would accept and decode far more (percent-escapes, IPv6 zones).
  if (!isPlainBaseUrl(url)) {
    return tl::make_unexpected(bad("'" + url.substr(kScheme.size()) +
                                   "' is not a host name or IP address, an optional port 1-65535 and a plain path"));
  }
  PeerUrl out;
  try {
    const Poco::URI uri(url);
    out.host = uri.getHost();
    out.port = uri.getPort();
    out.pathPrefix = uri.getPath();
  } catch (const Poco::Exception& e) {
    return tl::make_unexpected(bad(e.message()));
  }
  while (!out.pathPrefix.empty() && out.pathPrefix.back() == '/') out.pathPrefix.pop_back();
  return out;
}

}  // namespace hie::exchange

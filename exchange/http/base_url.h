// The base URL that fullUrl and link URLs in replies start with, decided in
// one place (the request gate) for every handler: the configured
// server.baseUrl, else the caller's Host header when it is a plain
// host[:port], else the local address the connection arrived on.
#pragma once

#include <string>
#include <string_view>

#include "exchange/http/http_call.h"

namespace hie::exchange {

// True for a plain URI authority host[:port]: a DNS name (labels of 1-63
// letters, digits and '-', not starting or ending with '-', separated by
// single dots, 253 characters at most; a dotted IPv4 address is one too) or a
// bracketed IPv6 address ([::1]), then optionally ':' and a port 1-65535 of
// at most five digits. Anything else (quotes, backslashes, control bytes,
// user info, paths, IPv6 zones, longer text) is not.
bool isPlainAuthority(std::string_view authority);

// True for https://AUTHORITY[/PATH]: a plain authority as above and a path of
// letters, digits and - . _ ~ / only (what server.baseUrl may be).
bool isPlainBaseUrl(std::string_view url);

// configured when set ("https://..." without a trailing '/'); else
// "https://" + the call's Host header when there is exactly one and it is
// plain; else "https://" + call.localAddress when that is plain; else
// "https://localhost". Never contains anything but a plain authority after
// the scheme unless the operator configured it so.
std::string publicBaseUrl(const std::string& configured, const HttpCall& call);

}  // namespace hie::exchange

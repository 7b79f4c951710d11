// X-Request-Id: a caller's id is echoed when it is short and plain, else a new one is made.
#pragma once

#include <string>

namespace hie::exchange {

// 1-64 characters of [A-Za-z0-9._:-].
bool isAcceptableRequestId(const std::string& id);

// 32 lowercase hex characters from the OpenSSL CSPRNG.
std::string newRequestId();

// The incoming id if acceptable, else a new one.
std::string requestIdFor(const std::string& incoming);

}  // namespace hie::exchange

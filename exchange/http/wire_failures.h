// Names for what went wrong on the wire before a request could be handled:
// a TLS handshake that failed without a certificate verdict, and a request
// head Poco could not parse. One place, so counters, logs and audit entries
// use the same names.
#pragma once

#include <string>

namespace hie::exchange {

// The reason for a handshake that failed with OpenSSL error `opensslError`
// (an ERR_* packed code, 0 = none was raised): no_certificate,
// protocol_version, no_shared_cipher, not_tls, or handshake_failed.
const char* handshakeFailureReason(unsigned long opensslError);

struct MalformedRequest {
  int status;          // 414, 431 or 400
  const char* reason;  // uri_too_long | headers_too_large | malformed_request
  const char* text;    // for the OperationOutcome
};

// What a Poco::Net::MessageException's message says was wrong with a request head.
MalformedRequest classifyMalformedRequest(const std::string& pocoMessage);

}  // namespace hie::exchange

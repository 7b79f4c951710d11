#include "exchange/http/wire_failures.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace hie::exchange {

const char* handshakeFailureReason(unsigned long opensslError) {
  if (ERR_GET_LIB(opensslError) != ERR_LIB_SSL) return "handshake_failed";
  switch (ERR_GET_REASON(opensslError)) {
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE: return "no_certificate";
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_VERSION_TOO_LOW: return "protocol_version";
    case SSL_R_NO_SHARED_CIPHER: return "no_shared_cipher";
    case SSL_R_HTTP_REQUEST: return "not_tls";
    default: return "handshake_failed";
  }
}

MalformedRequest classifyMalformedRequest(const std::string& message) {
  // Text is the only signal here: Poco 1.11's request parser (HTTPRequest::read,
  // MessageHeader::read) throws one exception type, MessageException, for every
  // defect and limit, and says which only in its message. The messages matched
  // are Poco's own constants, not text from the peer.
  if (message.find("URI invalid or too long") != std::string::npos) {
    return {414, "uri_too_long", "Request URI too long."};
  }
  if (message.find("header fields") != std::string::npos || message.find("Field name too long") != std::string::npos ||
      message.find("Field value too long") != std::string::npos) {
    return {431, "headers_too_large", "Request header fields too large."};
  }
  return {400, "malformed_request", "Malformed HTTP request."};
}

}  // namespace hie::exchange

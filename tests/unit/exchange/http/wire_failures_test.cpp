#include "exchange/http/wire_failures.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <gtest/gtest.h>

namespace hie::exchange {
namespace {

unsigned long sslError(int reason) { return ERR_PACK(ERR_LIB_SSL, 0, reason); }

TEST(HandshakeFailureReason, NamesTheOpenSslReasonsWeCount) {
  EXPECT_STREQ(handshakeFailureReason(sslError(SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)), "no_certificate");
  EXPECT_STREQ(handshakeFailureReason(sslError(SSL_R_UNSUPPORTED_PROTOCOL)), "protocol_version");
  EXPECT_STREQ(handshakeFailureReason(sslError(SSL_R_WRONG_VERSION_NUMBER)), "protocol_version");
  EXPECT_STREQ(handshakeFailureReason(sslError(SSL_R_VERSION_TOO_LOW)), "protocol_version");
  EXPECT_STREQ(handshakeFailureReason(sslError(SSL_R_NO_SHARED_CIPHER)), "no_shared_cipher");
  EXPECT_STREQ(handshakeFailureReason(sslError(SSL_R_HTTP_REQUEST)), "not_tls");
}

TEST(HandshakeFailureReason, EverythingElseIsAFailedHandshake) {
  EXPECT_STREQ(handshakeFailureReason(0), "handshake_failed") << "no error raised (the peer closed)";
  EXPECT_STREQ(handshakeFailureReason(sslError(SSL_R_CERTIFICATE_VERIFY_FAILED)), "handshake_failed");
  EXPECT_STREQ(handshakeFailureReason(sslError(SSL_R_HTTPS_PROXY_REQUEST)), "handshake_failed");
  EXPECT_STREQ(handshakeFailureReason(ERR_PACK(ERR_LIB_X509, 0, SSL_R_NO_SHARED_CIPHER)), "handshake_failed")
      << "the same number from another library is not the same reason";
}

TEST(ClassifyMalformedRequest, MapsPocoParserLimitsToTheirStatus) {
  // Poco 1.11's own messages (Net/src/HTTPRequest.cpp, MessageHeader.cpp).
  struct Case {
    const char* message;
    int status;
    const char* reason;
  };
  const Case cases[] = {
      {"HTTP request URI invalid or too long", 414, "uri_too_long"},
      {"Too many header fields", 431, "headers_too_large"},
      {"Field name too long/no colon found", 431, "headers_too_large"},
      {"Field value too long/no CRLF found", 431, "headers_too_large"},
      {"Folded field value too long/no CRLF found", 400, "malformed_request"},
      {"HTTP request method invalid or too long", 400, "malformed_request"},
      {"Invalid HTTP version string", 400, "malformed_request"},
      {"No HTTP request header", 400, "malformed_request"},
      {"", 400, "malformed_request"},
  };
  for (const auto& c : cases) {
    const MalformedRequest m = classifyMalformedRequest(c.message);
    EXPECT_EQ(m.status, c.status) << c.message;
    EXPECT_STREQ(m.reason, c.reason) << c.message;
  }
  EXPECT_STREQ(classifyMalformedRequest("HTTP request URI invalid or too long").text, "Request URI too long.");
  EXPECT_STREQ(classifyMalformedRequest("Too many header fields").text, "Request header fields too large.");
  EXPECT_STREQ(classifyMalformedRequest("x").text, "Malformed HTTP request.");
}

}  // namespace
}  // namespace hie::exchange

// Handshakes that fail without a certificate verdict are named from OpenSSL's
// error code (kept on the connection's SSL by the info callback), not from
// exception text: each reason docs/operations.md lists shows up as listed.
#include <openssl/ssl.h>

#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <gtest/gtest.h>

#include "tests/support/node_fixture.h"

namespace hie::testing {
namespace {

const std::string kLakeside = "urn:oid:2.16.840.1.113883.3.7001";

class HandshakeReasons : public ::testing::Test {
 protected:
  void SetUp() override {
    f.migrate();
    f.addOrg(kLakeside, "Lakeside Clinic");
    f.start();
  }
  bool logged(const std::string& reason) {
    // The refusal is logged once the handshake has failed on the node's side: wait for it, bounded.
    return waitFor([&] { return contains(f.node()->log(), "reason=" + reason + " "); }, std::chrono::seconds(10));
  }
  NodeFixture f;
};

TEST_F(HandshakeReasons, NoClientCertificate) {
  EXPECT_TRUE(tlsGet(f.node()->port(), f.pki.root, ClientIdentity{}, "/fhir/metadata").tlsRefused);
  EXPECT_TRUE(logged("no_certificate")) << f.node()->log();
}

TEST_F(HandshakeReasons, ProtocolBelowTls12) {
  TlsClientOptions old;
  old.minVersion = TLS1_VERSION;
  old.maxVersion = TLS1_1_VERSION;
  old.securityLevel = 0;
  auto lakeside = f.memberCert({kLakeside});
  EXPECT_TRUE(tlsGet(f.node()->port(), f.pki.root, f.as(lakeside), "/fhir/metadata", {}, old).tlsRefused);
  EXPECT_TRUE(logged("protocol_version")) << f.node()->log();
}

TEST_F(HandshakeReasons, PlainHttpOnTheTlsPort) {
  Poco::Net::StreamSocket plain(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(f.node()->port())));
  plain.setReceiveTimeout(Poco::Timespan(10, 0));
  const std::string request = "GET /fhir/metadata HTTP/1.1\r\nHost: localhost\r\n\r\n";
  plain.sendBytes(request.data(), static_cast<int>(request.size()));
  char buf[256];
  try {
    while (plain.receiveBytes(buf, sizeof buf) > 0) {
    }
  } catch (const Poco::Exception&) {
    // reset by the node: also an end
  }
  EXPECT_TRUE(logged("not_tls")) << f.node()->log();
}

}  // namespace
}  // namespace hie::testing

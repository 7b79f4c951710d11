// Malformed and abusive traffic from an admitted peer and from strangers:
// clean 4xx replies or a cut connection, and the node keeps serving.
#include <gtest/gtest.h>

#include "tests/support/node_fixture.h"

namespace hie::testing {
namespace {

const std::string kLakeside = "urn:oid:2.16.840.1.113883.3.7001";

class HostileInput : public ::testing::Test {
 protected:
  void SetUp() override {
    f.config["server.threads"] = "4";
    f.config["server.maxQueued"] = "2";
    f.writeConfig();
    f.migrate();
    f.addOrg(kLakeside, "Lakeside Clinic");
    lakeside = f.memberCert({kLakeside});
    f.start();
  }

  HttpResult raw(const std::string& request) { return tlsExchange(f.node()->port(), f.pki.root, f.as(lakeside), request); }

  void expectStillServing() {
    auto r = f.get(lakeside);
    EXPECT_EQ(r.status, 200) << r.tlsError << r.head;
  }

  void expectOutcome(const HttpResult& r, int status) {
    ASSERT_FALSE(r.tlsRefused) << r.tlsError;
    EXPECT_EQ(r.status, status) << r.head << "\n" << r.body;
    EXPECT_NE(r.body.find("OperationOutcome"), std::string::npos) << r.body;
    EXPECT_FALSE(r.header("X-Request-Id").empty()) << r.head;
  }

  NodeFixture f;
  Credential lakeside;
};

TEST_F(HostileInput, OversizedHeaderValueGets431) {
  expectOutcome(raw("GET /fhir/metadata HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n"), 431);
  expectStillServing();
}

TEST_F(HostileInput, TooManyHeaderFieldsGet431) {
  std::string request = "GET /fhir/metadata HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 200; ++i) request += "X-H" + std::to_string(i) + ": v\r\n";
  expectOutcome(raw(request + "\r\n"), 431);
  expectStillServing();
}

TEST_F(HostileInput, OversizedUriGets414) {
  expectOutcome(raw("GET /fhir/metadata?x=" + std::string(40000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n"), 414);
  expectStillServing();
}

TEST_F(HostileInput, GarbageRequestLineGets400) {
  expectOutcome(raw("\x01\x02\x03 nonsense\r\n\r\n"), 400);
  expectStillServing();
}

TEST_F(HostileInput, UnsupportedHttpVersionGets505) {
  expectOutcome(raw("GET /fhir/metadata HTTP/9.9\r\nHost: x\r\n\r\n"), 505);
  expectStillServing();
}

TEST_F(HostileInput, MalformedPercentEncodingGets400) {
  expectOutcome(raw("GET /fhir/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 400);
  expectStillServing();
}

TEST_F(HostileInput, ConflictingLengthAndChunkingIsRefused) {
  expectOutcome(raw("GET /fhir/metadata HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "0\r\n\r\n"),
                400);
  expectStillServing();
}

TEST_F(HostileInput, RequestBodiesAreRefused) {
  expectOutcome(raw("POST /fhir/metadata HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"), 413);
  expectStillServing();
}

TEST_F(HostileInput, WrongMethodGets405) {
  auto r = raw("DELETE /fhir/metadata HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  expectOutcome(r, 405);
  EXPECT_EQ(r.header("Allow"), "GET");
}

TEST_F(HostileInput, IdentityHeadersAreIgnored) {
  // Identity comes only from the certificate, never from what the peer says.
  Credential stranger = f.memberCert({"urn:oid:1.2.3.4.5"});
  auto r = f.get(stranger, "/fhir/metadata?organization=" + kLakeside,
                 {"X-Organization: " + kLakeside, "X-Client-Cert: " + kLakeside, "X-SSL-Client-S-DN: CN=" + kLakeside});
  EXPECT_EQ(r.status, 403);
}

TEST_F(HostileInput, SilentTcpClientIsCutByTheHandshakeTimeout) {
  RawConnection silent(f.node()->port());
  EXPECT_TRUE(silent.closedByServer(std::chrono::seconds(15)));
  expectStillServing();
}

TEST_F(HostileInput, IdleTlsClientIsCutByTheTimeout) {
  EXPECT_TRUE(tlsIdleConnectionIsCut(f.node()->port(), f.pki.root, f.as(lakeside), std::chrono::seconds(15)));
}

TEST_F(HostileInput, PlainHttpOnTheTlsPortIsRefused) {
  RawConnection plain(f.node()->port());
  ASSERT_TRUE(plain.send("GET /fhir/metadata HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(plain.closedByServer(std::chrono::seconds(15)));
  expectStillServing();
}

TEST_F(HostileInput, ConnectionsBeyondTheBoundAreClosedAndServiceRecovers) {
  // 4 threads + 2 queued: hold them all with silent connections, then more.
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 6; ++i) held.push_back(std::make_unique<RawConnection>(f.node()->port()));
  // The node accepts in arrival order, so the held ones fill threads and queue first.
  std::vector<std::unique_ptr<RawConnection>> extra;
  for (int i = 0; i < 4; ++i) extra.push_back(std::make_unique<RawConnection>(f.node()->port()));
  int closedQuickly = 0;
  for (auto& c : extra) closedQuickly += c->closedByServer(std::chrono::milliseconds(1500)) ? 1 : 0;
  EXPECT_GE(closedQuickly, 1) << "connections beyond threads+queue should be closed, not parked";
  // The silent connections are cut by the timeout and a member is served again.
  EXPECT_TRUE(waitFor([&] { return f.get(lakeside).status == 200; }, std::chrono::seconds(20)));
}

}  // namespace
}  // namespace hie::testing

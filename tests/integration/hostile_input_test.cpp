// Malformed and abusive traffic from an admitted peer and from strangers:
// clean 4xx replies or a cut connection, and the node keeps serving.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include <pqxx/pqxx>

#include "tests/support/node_fixture.h"

namespace hie::testing {
namespace {

const std::string kLakeside = "urn:oid:2.16.840.1.113883.3.7001";

class HostileInput : public ::testing::Test {
 protected:
  void SetUp() override {
    f.config["server.threads"] = "4";
    f.config["server.maxQueued"] = "2";
    f.config["server.timeout"] = "3";  // per read, and for a whole handshake or request head
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

  // The signed leaf (canonical audit entry) of the request with that X-Request-Id ("" when there is none).
  std::string auditedRequest(const std::string& requestId) {
    pqxx::connection c(f.db.uri());
    pqxx::read_transaction tx(c);
    auto rows = tx.exec_params("SELECT leaf FROM audit_log_entries WHERE request_id = $1", requestId);
    return rows.empty() ? std::string() : rows[0][0].as<std::string>();
  }

  long long auditedWithReason(const std::string& reason) {
    pqxx::connection c(f.db.uri());
    pqxx::read_transaction tx(c);
    return tx.exec_params1("SELECT count(*) FROM audit_log_entries WHERE strpos(leaf, $1) > 0",
                           "\"outcomeReason\":\"" + reason + "\"")[0]
        .as<long long>();
  }

  // A grant and the demo records, so that an authorized read has something to read.
  void grantLakesideReads() {
    auto grant = f.cli({"grant", "add", "--org", kLakeside, "--resource", "Patient,Observation", "--action",
                        "read,search", "--purpose", "TREAT"});
    ASSERT_EQ(grant.exitCode, 0) << grant.output;
    auto import = f.cli({"records", "import", std::string(HIE_SOURCE_DIR) + "/config/demo/bundle.json"});
    ASSERT_EQ(import.exitCode, 0) << import.output;
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

TEST_F(HostileInput, ByteAtATimeHeadersCannotHoldTheWorkers) {
  grantLakesideReads();
  // More slow connections than threads + queue (4 + 2), from a certificate the network trusts.
  Credential slow = f.memberCert({"urn:oid:1.2.3.4.5"}, "slow");
  const std::string neverEnding = "GET /fhir/metadata HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + std::string(4000, 'a');
  constexpr int kSlow = 10;
  std::atomic<int> connected{0};
  std::vector<std::future<TrickleOutcome>> slowOnes;
  // Poco refuses a connection while its queue is full, even when a worker is still starting: a burst of ten
  // may leave a worker without a slow connection. A refused client tries again (bounded) until it holds one.
  for (int i = 0; i < kSlow; ++i) {
    slowOnes.push_back(std::async(std::launch::async, [&] {
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
      while (true) {
        TrickleOutcome o = tlsTrickle(f.node()->port(), f.pki.root, f.as(slow), neverEnding,
                                      std::chrono::milliseconds(50), std::chrono::seconds(40), &connected);
        if (o.connected || std::chrono::steady_clock::now() >= until) return o;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }));
  }
  // The attack is on once every worker thread holds a slow connection.
  ASSERT_TRUE(waitFor([&] { return connected.load() >= 4; }, std::chrono::seconds(15))) << connected.load();

  // A member is still served, and reads a record: the slow heads are cut at their deadline.
  const std::vector<std::string> treat{"X-Purpose-Of-Use: TREAT"};
  EXPECT_TRUE(waitFor([&] { return f.get(lakeside).status == 200; }, std::chrono::seconds(20)));
  EXPECT_TRUE(waitFor([&] { return f.get(lakeside, "/fhir/Patient/p-ava", treat).status == 200; },
                      std::chrono::seconds(20)));

  int established = 0;
  for (auto& s : slowOnes) {
    const TrickleOutcome o = s.get();
    if (!o.connected) continue;  // dropped every time: beyond threads + queue
    ++established;
    EXPECT_TRUE(o.cut) << "a slow request head held its connection for " << o.bytesSent << " bytes";
    EXPECT_LT(o.bytesSent, neverEnding.size());
    if (o.status != 0) {
      EXPECT_EQ(o.status, 408);
    }
  }
  EXPECT_GE(established, 4);
  // Each cut head reached HTTP, so each is audited like any refused request.
  EXPECT_GE(auditedWithReason("request_timeout"), 1);
  expectStillServing();
}

TEST_F(HostileInput, InvalidUtf8GetsACleanRefusalAndIsAudited) {
  grantLakesideReads();
  struct Case {
    std::string name;
    std::string request;  // request line and headers after Host, without the final CRLF
  };
  const std::string get = "GET ";
  const std::string tail = " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nX-Purpose-Of-Use: TREAT\r\n";
  const std::vector<Case> cases{
      {"path", get + "/fhir/Patient/%FF%FE" + tail},
      {"identifier", get + "/fhir/Patient?identifier=urn:x%7C%C3%28" + tail},
      {"patient", get + "/fhir/Observation?patient=%80" + tail},
      {"surrogate", get + "/fhir/Observation?patient.identifier=urn:x%7C%ED%A0%80" + tail},
      {"overlong", get + "/fhir/Patient?identifier=urn:x%7Ca%C0%AF" + tail},
      {"parameter name", get + "/fhir/Patient?%FF=1" + tail},
      // (Not 0xFF: Poco's header reader takes that byte for end-of-file and drops it.)
      {"raw path", get + "/fhir/Patient/\xfe\xfd" + tail},
      {"raw query", get + "/fhir/Patient?identifier=urn:x|\xc3\x28" + tail},
      {"purpose header", get + "/fhir/Patient/p-ava HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                                "X-Purpose-Of-Use: TRE\xc3\x28" "AT\r\n"},
      {"other header", get + "/fhir/metadata HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                              "User-Agent: \xc0\xaf\r\n"},
  };
  int n = 0;
  for (const Case& c : cases) {
    const std::string id = "utf8-case-" + std::to_string(++n);
    auto r = raw(c.request + "X-Request-Id: " + id + "\r\n\r\n");
    SCOPED_TRACE(c.name);
    expectOutcome(r, 400);
    EXPECT_EQ(r.header("X-Request-Id"), id);
    // Refused like any other request: the entry is there, with the bytes escaped, not dropped.
    const std::string entry = auditedRequest(id);
    EXPECT_TRUE(contains(entry, "\"httpStatus\":400")) << entry;
    EXPECT_TRUE(contains(entry, "\"outcome\":\"error\"")) << entry;
    if (c.name == "raw path") {
      EXPECT_TRUE(contains(entry, "\"path\":\"/fhir/Patient/%FE%FD\"")) << entry;
    }
    if (c.name == "purpose header") {
      EXPECT_TRUE(contains(entry, "\"purpose\":\"TRE%C3(AT\"")) << entry;
    }
  }
  // A valid but unknown purpose of use that a byte limit would cut inside a UTF-8 character.
  auto cutPurpose = f.get(lakeside, "/fhir/Patient/p-ava", {"X-Purpose-Of-Use: " + std::string(31, 'T') + "\xc3\xa9",
                                                             "X-Request-Id: utf8-cut-purpose"});
  expectOutcome(cutPurpose, 400);
  EXPECT_TRUE(contains(auditedRequest("utf8-cut-purpose"), "\"httpStatus\":400"));
  // Valid UTF-8 is still just text: an unknown identifier finds nothing.
  auto unicode = f.get(lakeside, "/fhir/Patient?identifier=urn:x%7C%C3%A9", {"X-Purpose-Of-Use: TREAT"});
  EXPECT_EQ(unicode.status, 200) << unicode.body;
  expectStillServing();
  EXPECT_EQ(f.get(lakeside, "/fhir/Patient/p-ava", {"X-Purpose-Of-Use: TREAT"}).status, 200);
  auto verify = f.cli({"audit", "verify"});
  EXPECT_EQ(verify.exitCode, 0) << verify.output;
}

}  // namespace
}  // namespace hie::testing

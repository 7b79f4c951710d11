// Everything a real node answers is valid FHIR R4: each kind of answer
// (CapabilityStatement, reads, searches, paging, empty results, every
// OperationOutcome error, the exchange's Bundle, every AuditEvent shape of
// /audit/AuditEvent and /audit/disclosures, and `audit export --format fhir`)
// is collected from a running node and checked against the official R4
// definitions by tests/tools/validate-fhir.js (JSON schema, JSON format
// rules, required elements). The 503 and peer-call shapes are checked where
// they arise: AuditFailClosed and Exchange.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <map>
#include <set>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <pqxx/pqxx>

#include "tests/support/fhir_validator.h"
#include "tests/support/node_fixture.h"

namespace hie::testing {
namespace {

const std::string kLakeside = "urn:oid:2.16.840.1.113883.3.7001";
const std::string kAuditorOrg = "urn:oid:2.16.840.1.113883.3.7009";
const std::string kLocal = "urn:oid:2.16.840.1.113883.3.7010";
const std::string kDownPeer = "urn:oid:2.16.840.1.113883.3.7011";
const std::string kNet = "urn:oid:2.16.840.1.113883.3.7000.1";
const std::string kTypes = "Patient,DocumentReference,Observation,Condition,AllergyIntolerance,MedicationStatement,Encounter";

// A loopback port with nothing listening (bound, never listened on, for the test's lifetime).
class ClosedPort {
 public:
  ClosedPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~ClosedPort() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// The JSON document of a CLI's output (stdout and stderr share the output; the JSON is one line of braces).
std::string jsonIn(const std::string& output) {
  const auto first = output.find('{');
  const auto last = output.rfind('}');
  return first == std::string::npos || last == std::string::npos ? output : output.substr(first, last - first + 1);
}

class FhirConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    f.migrate();
    f.addOrg(kLakeside, "Lakeside Clinic");
    f.addOrg(kAuditorOrg, "Network Audit Office", {"--role", "auditor"});
    f.addOrg(kLocal, "Own clinical system", {"--role", "local"});
    f.addOrg(kDownPeer, "A peer that is down");
    ok(f.cli({"grant", "add", "--org", kLakeside, "--resource", kTypes, "--action", "read,search", "--purpose", "TREAT"}));
    ok(f.cli({"records", "import", std::string(HIE_SOURCE_DIR) + "/config/demo/bundle.json"}));
    ok(f.cli({"consent", "set", "--patient", "p-cara", "--opt-out"}));
    ok(f.cli({"peer", "add", "--org", kDownPeer, "--url", "https://127.0.0.1:" + std::to_string(downPeer.port())}));
    lakeside = f.memberCert({kLakeside});
    auditor = f.memberCert({kAuditorOrg});
    local = f.memberCert({kLocal});
    f.start();
  }

  static void ok(const CommandResult& r) { ASSERT_EQ(r.exitCode, 0) << r.output; }

  // Asks, checks the status and the media type, and keeps the answer for validation.
  HttpResult keep(const std::string& label, const HttpResult& r, int status) {
    EXPECT_FALSE(r.tlsRefused) << label << ": " << r.tlsError;
    EXPECT_EQ(r.status, status) << label << ": " << r.head << r.body;
    EXPECT_EQ(r.header("Content-Type"), "application/fhir+json") << label << ": " << r.head;
    answers.push_back({label, r.body});
    return r;
  }
  HttpResult ask(const std::string& label, const Credential& who, const std::string& path, int status,
                 const std::string& purpose = "TREAT") {
    std::vector<std::string> headers;
    if (!purpose.empty()) headers.push_back("X-Purpose-Of-Use: " + purpose);
    return keep(label, f.get(who, path, headers), status);
  }
  HttpResult raw(const std::string& label, const std::string& request, int status) {
    return keep(label, tlsExchange(f.node()->port(), f.pki.root, f.as(lakeside), request), status);
  }

  long long entries(const std::string& where) {
    pqxx::connection c(f.db.uri());
    pqxx::read_transaction tx(c);
    return tx.exec1("SELECT count(*) FROM audit_log_entries WHERE " + where)[0].as<long long>();
  }

  void expectValid() {
    auto r = validateFhirR4(answers, f.dir.path());
    EXPECT_EQ(r.exitCode, 0) << r.output;
    EXPECT_TRUE(contains(r.output, std::to_string(answers.size()) + " of " + std::to_string(answers.size()) +
                                       " files valid FHIR R4"))
        << r.output;
  }

  ClosedPort downPeer;
  NodeFixture f;
  Credential lakeside, auditor, local;
  std::vector<FhirDocument> answers;
};

TEST_F(FhirConformance, EveryKindOfAnswerIsValidR4) {
  const std::string ident = kNet + "%7CNET-1001";
  ask("capability-statement", lakeside, "/fhir/metadata", 200, "");
  // Reads and searches of every type, by id and by identifier; paging; no match.
  ask("patient-read", lakeside, "/fhir/Patient/p-ava", 200);
  ask("patient-search-identifier", lakeside, "/fhir/Patient?identifier=" + ident, 200);
  ask("patient-search-id", lakeside, "/fhir/Patient?_id=p-ava", 200);
  for (const std::string type : {"DocumentReference", "Observation", "Condition", "AllergyIntolerance",
                                 "MedicationStatement", "Encounter"}) {
    auto search = ask(type + "-search", lakeside, "/fhir/" + type + "?patient=p-ava", 200);
    ask(type + "-search-identifier", lakeside, "/fhir/" + type + "?patient.identifier=" + ident, 200);
    const auto at = search.body.find("\"id\": \"");
    ASSERT_NE(at, std::string::npos) << search.body;
    const std::string id = search.body.substr(at + 7, search.body.find('"', at + 7) - at - 7);
    ask(type + "-read", lakeside, "/fhir/" + type + "/" + id, 200);
  }
  auto page = ask("search-paged", lakeside, "/fhir/Observation?patient=p-ava&_count=1", 200);
  EXPECT_TRUE(contains(page.body, "\"relation\":\"next\"")) << page.body;
  auto none = ask("search-no-match", lakeside, "/fhir/Observation?patient=nobody", 200);
  EXPECT_TRUE(contains(none.body, "\"total\":0")) << none.body;
  EXPECT_FALSE(contains(none.body, "\"entry\"")) << "no match is no entry element, not an empty array: " << none.body;
  ask("search-hidden-by-consent", lakeside, "/fhir/Observation?patient=p-cara", 200);
  ask("patient-search-no-match", lakeside, "/fhir/Patient?identifier=" + kNet + "%7Cnobody", 200);

  // Every error the node answers with an OperationOutcome.
  ask("error-unsupported-parameter", lakeside, "/fhir/Patient?_sort=name", 400);
  ask("error-bad-count", lakeside, "/fhir/Observation?patient=p-ava&_count=0", 400);
  ask("error-two-selectors", lakeside, "/fhir/Observation?patient=p-ava&patient.identifier=" + ident, 400);
  ask("error-bad-id", lakeside, "/fhir/Patient/bad%20id", 400);
  ask("error-missing-purpose", lakeside, "/fhir/Patient/p-ava", 400, "");
  ask("error-unknown-purpose", lakeside, "/fhir/Patient/p-ava", 400, "NOPE");
  ask("error-no-grant", lakeside, "/fhir/Patient/p-ava", 403, "HPAYMT");
  ask("error-unknown-organization", f.memberCert({"urn:oid:1.2.3.4.5"}), "/fhir/metadata", 403);
  ask("error-not-found", lakeside, "/fhir/Patient/nobody", 404);
  ask("error-consent-refused", lakeside, "/fhir/Patient/p-cara", 404);
  ask("error-unsupported-type", lakeside, "/fhir/Medication/m1", 404);
  ask("error-no-route", lakeside, "/nowhere", 404);
  raw("error-method", "PATCH /fhir/Patient/p-ava HTTP/1.1\r\nHost: x\r\nX-Purpose-Of-Use: TREAT\r\nConnection: close\r\n\r\n", 405);
  // A write by an organization that is not this institution's own system.
  raw("error-write-not-local", "DELETE /fhir/Patient/p-ava HTTP/1.1\r\nHost: x\r\nX-Purpose-Of-Use: HOPERAT\r\nConnection: close\r\n\r\n", 403);
  raw("error-body", "POST /fhir/metadata HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", 413);
  raw("error-uri-too-long", "GET /fhir/metadata?x=" + std::string(40000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", 414);
  raw("error-header-too-large", "GET /fhir/metadata HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n", 431);
  raw("error-http-version", "GET /fhir/metadata HTTP/9.9\r\nHost: x\r\n\r\n", 505);
  raw("error-garbage", "\x01\x02\x03 nonsense\r\n\r\n", 400);
  raw("error-conflicting-length",
      "GET /fhir/metadata HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
  raw("error-malformed-uri", "GET /fhir/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 400);
  raw("error-not-utf8", "GET /fhir/metadata HTTP/1.1\r\nHost: x\r\nConnection: close\r\nUser-Agent: \xc0\xaf\r\n\r\n", 400);
  ask("error-audit-not-auditor", lakeside, "/audit/AuditEvent", 403, "");
  ask("error-audit-bad-parameter", auditor, "/audit/AuditEvent?outcome=maybe", 400, "");
  ask("error-exchange-not-local", lakeside, "/exchange/Patient?patient.identifier=" + ident, 403);
  ask("error-exchange-bad-query", local, "/exchange/Patient?identifier=" + ident, 400);

  // The exchange with its only peer down: a Bundle holding the peer's OperationOutcome.
  auto exchanged = ask("exchange-peer-down", local, "/exchange/Patient?patient.identifier=" + ident, 200);
  EXPECT_TRUE(contains(exchanged.body, "\"mode\":\"outcome\"")) << exchanged.body;
  // And with no peer at all: nothing to report is no entry element, not an empty array.
  ok(f.cli({"peer", "remove", kDownPeer}));
  HttpResult alone;
  ASSERT_TRUE(waitFor(
      [&] {
        alone = f.get(local, "/exchange/Patient?patient.identifier=" + ident, {"X-Purpose-Of-Use: TREAT"});
        return alone.status == 200 && !contains(alone.body, "OperationOutcome");
      },
      std::chrono::seconds(10)))
      << alone.body;
  keep("exchange-no-peers", alone, 200);
  EXPECT_FALSE(contains(alone.body, "\"entry\"")) << alone.body;

  // Refused handshakes: security alerts with and without a presented certificate.
  TestPki other = TestPki::create();
  CertSpec spec;
  spec.commonName = "intruder";
  spec.sanUris = {kLakeside};
  spec.extendedKeyUsage = {"clientAuth"};
  Credential intruder = other.leaf(spec);
  EXPECT_TRUE(tlsGet(f.node()->port(), f.pki.root, ClientIdentity{&intruder, {&other.intermediate}}, "/fhir/metadata")
                  .tlsRefused);
  EXPECT_TRUE(tlsGet(f.node()->port(), f.pki.root, ClientIdentity{}, "/fhir/metadata").tlsRefused);
  ASSERT_TRUE(waitFor([&] { return entries("event_type = 'security-alert'") == 2; }, std::chrono::seconds(10)));

  // Every AuditEvent shape so far (success, denied, error; read, search, capabilities, query,
  // peer-call, audit-query, protocol refusals, security alerts), two pages of the trail.
  auto trail = ask("audit-trail", auditor, "/audit/AuditEvent?_count=100", 200, "");
  EXPECT_TRUE(contains(trail.body, "\"code\":\"110113\"")) << "no security alert in " << trail.body;
  EXPECT_TRUE(contains(trail.body, "\"outcome\":\"8\"")) << trail.body;
  ask("audit-trail-page", auditor, "/audit/AuditEvent?_count=2&_offset=2", 200, "");
  ask("audit-trail-no-match", auditor, "/audit/AuditEvent?date=le2000-01-01", 200, "");
  ask("audit-disclosures", auditor, "/audit/disclosures?patient=p-ava", 200, "");
  ask("audit-disclosures-hipaa-none", auditor, "/audit/disclosures?patient=p-ava&hipaa=true", 200, "");

  auto exported = f.cli({"audit", "export", "--format", "fhir"});
  ASSERT_EQ(exported.exitCode, 0) << exported.output;
  answers.push_back({"audit-export", jsonIn(exported.output)});
  auto exportedNone = f.cli({"audit", "export", "--format", "fhir", "--to", "2000-01-01"});
  ASSERT_EQ(exportedNone.exitCode, 0) << exportedNone.output;
  answers.push_back({"audit-export-empty", jsonIn(exportedNone.output)});

  expectValid();
}

// The CapabilityStatement declares, per type, exactly the search parameters a search accepts.
TEST_F(FhirConformance, TheCapabilityStatementDeclaresExactlyTheSupportedSearchParameters) {
  auto metadata = ask("capability-statement", lakeside, "/fhir/metadata", 200, "");
  Poco::JSON::Parser parser;
  auto statement = parser.parse(metadata.body).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(statement->getValue<std::string>("fhirVersion"), "4.0.1");
  auto resources = statement->getArray("rest")->getObject(0)->getArray("resource");
  ASSERT_TRUE(resources);
  std::map<std::string, std::set<std::string>> declared;
  for (std::size_t i = 0; i < resources->size(); ++i) {
    auto r = resources->getObject(static_cast<unsigned>(i));
    auto params = r->getArray("searchParam");
    ASSERT_TRUE(params) << r->getValue<std::string>("type");
    for (std::size_t k = 0; k < params->size(); ++k) {
      declared[r->getValue<std::string>("type")].insert(params->getObject(static_cast<unsigned>(k))->getValue<std::string>("name"));
    }
  }
  const std::set<std::string> patient{"identifier", "_id", "_count"};
  const std::set<std::string> others{"patient", "patient.identifier", "_count"};
  ASSERT_EQ(declared.size(), 7u);
  // The interactions served: reads for granted organizations, writes for role local, and
  // transaction and batch Bundles at the base.
  for (std::size_t i = 0; i < resources->size(); ++i) {
    auto r = resources->getObject(static_cast<unsigned>(i));
    std::set<std::string> codes;
    auto list = r->getArray("interaction");
    ASSERT_TRUE(list);
    for (std::size_t k = 0; k < list->size(); ++k) codes.insert(list->getObject(static_cast<unsigned>(k))->getValue<std::string>("code"));
    EXPECT_EQ(codes, (std::set<std::string>{"read", "vread", "search-type", "update", "delete", "create"}))
        << r->getValue<std::string>("type");
    EXPECT_EQ(r->getValue<std::string>("versioning"), "versioned-update");
  }
  std::set<std::string> restCodes;
  auto restList = statement->getArray("rest")->getObject(0)->getArray("interaction");
  ASSERT_TRUE(restList);
  for (std::size_t k = 0; k < restList->size(); ++k) restCodes.insert(restList->getObject(static_cast<unsigned>(k))->getValue<std::string>("code"));
  EXPECT_EQ(restCodes, (std::set<std::string>{"transaction", "batch"}));
  for (const auto& [type, names] : declared) EXPECT_EQ(names, type == "Patient" ? patient : others) << type;

  // Each declared parameter is accepted; one that is not declared is refused.
  const std::map<std::string, std::string> values{{"identifier", kNet + "%7CNET-1001"},
                                                  {"_id", "p-ava"},
                                                  {"patient", "p-ava"},
                                                  {"patient.identifier", kNet + "%7CNET-1001"}};
  for (const auto& [type, names] : declared) {
    for (const auto& name : names) {
      if (name == "_count") continue;
      auto r = ask(type + "-" + name, lakeside, "/fhir/" + type + "?" + name + "=" + values.at(name) + "&_count=5", 200);
      EXPECT_TRUE(contains(r.body, "\"resourceType\":\"Bundle\"")) << r.body;
    }
    ask(type + "-undeclared", lakeside, "/fhir/" + type + "?" + (type == "Patient" ? "name=Ava" : "subject=p-ava"), 400);
  }
  expectValid();
}

}  // namespace
}  // namespace hie::testing

// The FHIR write API over real mTLS against a real PostgreSQL: the institution's own systems
// (role local) keep records current; everyone else is refused; every version is kept.
#include <gtest/gtest.h>

#include <regex>

#include <pqxx/pqxx>

#include "tests/support/node_fixture.h"

namespace hie::testing {
namespace {

const std::string kHospital = "urn:oid:2.16.840.1.113883.3.7009";
const std::string kLakeside = "urn:oid:2.16.840.1.113883.3.7001";

class RecordsWrite : public ::testing::Test {
 protected:
  void SetUp() override {
    f.migrate();
    f.addOrg(kHospital, "Our Hospital Systems", {"--role", "local"});
    f.addOrg(kLakeside, "Lakeside Clinic");
    ok(f.cli({"grant", "add", "--org", kLakeside, "--resource", "Patient,Observation", "--action", "read,search",
              "--purpose", "TREAT"}));
    hospital = f.memberCert({kHospital});
    lakeside = f.memberCert({kLakeside});
    f.start();
  }
  void ok(const CommandResult& r) { ASSERT_EQ(r.exitCode, 0) << r.output; }

  // One request with a body over mTLS; headers are extra lines.
  HttpResult send(const Credential& who, const std::string& method, const std::string& path, const std::string& body,
                  std::vector<std::string> headers = {}, const std::string& purpose = "HOPERAT") {
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    if (!purpose.empty()) req += "X-Purpose-Of-Use: " + purpose + "\r\n";
    if (!body.empty()) req += "Content-Type: application/fhir+json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    for (const auto& h : headers) req += h + "\r\n";
    req += "\r\n" + body;
    HttpResult r = tlsExchange(f.node()->port(), f.pki.root, f.as(who), req);
    r.body = std::regex_replace(r.body, std::regex("([:,]) "), "$1");
    return r;
  }

  NodeFixture f;
  Credential hospital, lakeside;
};

const char* kPatient =
    R"({"resourceType":"Patient","id":"w-1","identifier":[{"system":"urn:oid:1.2.3","value":"MRN-1"}],"name":[{"family":"Doe"}]})";

TEST_F(RecordsWrite, SmokePutReadDelete) {
  auto created = send(hospital, "PUT", "/fhir/Patient/w-1", kPatient);
  ASSERT_EQ(created.status, 201) << created.body << f.node()->log();
  EXPECT_EQ(created.header("ETag"), "W/\"1\"");
  auto updated = send(hospital, "PUT", "/fhir/Patient/w-1", kPatient, {"If-Match: W/\"1\""});
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(updated.header("ETag"), "W/\"2\"");
  auto stale = send(hospital, "PUT", "/fhir/Patient/w-1", kPatient, {"If-Match: W/\"1\""});
  EXPECT_EQ(stale.status, 412) << stale.body;
  auto read = f.get(lakeside, "/fhir/Patient/w-1", {"X-Purpose-Of-Use: TREAT"});
  EXPECT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(read.header("ETag"), "W/\"2\"");
  auto v1 = f.get(lakeside, "/fhir/Patient/w-1/_history/1", {"X-Purpose-Of-Use: TREAT"});
  EXPECT_EQ(v1.status, 200) << v1.body;
  auto member = send(lakeside, "PUT", "/fhir/Patient/w-1", kPatient, {}, "TREAT");
  EXPECT_EQ(member.status, 403) << member.body;
  const std::string tx = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"fullUrl":"urn:uuid:0b0c1a2e-1111-4222-8333-444455556666","resource":{"resourceType":"Patient","name":[{"family":"New"}]},
     "request":{"method":"POST","url":"Patient"}},
    {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
      "subject":{"reference":"urn:uuid:0b0c1a2e-1111-4222-8333-444455556666"}},"request":{"method":"POST","url":"Observation"}}]})";
  auto bundle = send(hospital, "POST", "/fhir", tx);
  EXPECT_EQ(bundle.status, 200) << bundle.body << f.node()->log();
  EXPECT_NE(bundle.body.find("transaction-response"), std::string::npos) << bundle.body;
  auto del = send(hospital, "DELETE", "/fhir/Patient/w-1", "");
  EXPECT_EQ(del.status, 200) << del.body;
  auto gone = f.get(lakeside, "/fhir/Patient/w-1", {"X-Purpose-Of-Use: TREAT"});
  EXPECT_EQ(gone.status, 410) << gone.body;
}

// A transaction's conditional create that finds its resource writes nothing, and the references
// to its fullUrl name the resource it found (FHIR R4 transaction processing).
TEST_F(RecordsWrite, ReferencesToAConditionalCreateThatMatchedNameTheResourceFound) {
  ASSERT_EQ(send(hospital, "PUT", "/fhir/Patient/w-1", kPatient).status, 201);
  const std::string tx = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"fullUrl":"urn:uuid:0b0c1a2e-1111-4222-8333-444455556666","resource":{"resourceType":"Patient","name":[{"family":"Doe"}],
      "identifier":[{"system":"urn:oid:1.2.3","value":"MRN-1"}]},
     "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:oid:1.2.3|MRN-1"}},
    {"resource":{"resourceType":"Observation","id":"w-obs","status":"final","code":{"text":"x"},
      "subject":{"reference":"urn:uuid:0b0c1a2e-1111-4222-8333-444455556666"}},"request":{"method":"PUT","url":"Observation/w-obs"}}]})";
  auto bundle = send(hospital, "POST", "/fhir", tx);
  ASSERT_EQ(bundle.status, 200) << bundle.body << f.node()->log();
  EXPECT_NE(bundle.body.find("\"location\":\"Patient/w-1/_history/1\""), std::string::npos) << bundle.body;
  auto obs = f.get(lakeside, "/fhir/Observation/w-obs", {"X-Purpose-Of-Use: TREAT"});
  ASSERT_EQ(obs.status, 200) << obs.body;
  EXPECT_NE(obs.body.find("Patient/w-1"), std::string::npos) << obs.body;
  EXPECT_EQ(f.get(lakeside, "/fhir/Patient/w-1", {"X-Purpose-Of-Use: TREAT"}).header("ETag"), "W/\"1\"");
}

}  // namespace
}  // namespace hie::testing

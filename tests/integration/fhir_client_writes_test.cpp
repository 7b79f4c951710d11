// The write API through clients that are not hie-node's code: a general FHIR client library
// (fhir-kit-client, tests/tools/fhir-client-writes.js) and curl, both over mutual TLS.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>

#include "tests/support/fhir_validator.h"
#include "tests/support/node_fixture.h"

namespace hie::testing {
namespace {

const std::string kHospital = "urn:oid:2.16.840.1.113883.3.7009";

class FhirClientWrites : public ::testing::Test {
 protected:
  void SetUp() override {
    f.migrate();
    f.addOrg(kHospital, "Our Hospital Systems", {"--role", "local"});
    // The hospital's systems read back what they wrote (for their own operations).
    ASSERT_EQ(f.cli({"grant", "add", "--org", kHospital, "--resource", "Patient,Observation", "--action",
                     "read,search", "--purpose", "HOPERAT"})
                  .exitCode,
              0);
    hospital = f.memberCert({kHospital});
    cert = writeFile(files.path(), "client.crt", f.pki.chainPem(hospital));
    key = writeFile(files.path(), "client.key", hospital.keyPem());
    ca = writeFile(files.path(), "ca.crt", f.pki.root.certPem());
    f.start();
    base = "https://127.0.0.1:" + std::to_string(f.node()->port()) + "/fhir";
  }

  NodeFixture f;
  TempDir files;
  Credential hospital;
  std::string cert, key, ca, base;
};

// The script's report: one JSON object per line, by step name.
std::map<std::string, std::string> stepsOf(const std::string& output) {
  std::map<std::string, std::string> steps;
  std::istringstream in(output);
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, std::regex("^\\{\"step\":\"([a-z0-9-]+)\""))) steps[m[1]] = line;
  }
  return steps;
}

TEST_F(FhirClientWrites, AGeneralFhirClientLibraryKeepsRecordsCurrent) {
  const CommandResult r = runFhirTool("fhir-client-writes.js", {base, cert, key, ca});
  ASSERT_EQ(r.exitCode, 0) << r.output;
  auto s = stepsOf(r.output);
  auto has = [&](const std::string& step, const std::string& part) {
    return contains(s[step], part);
  };
  EXPECT_TRUE(has("update-create", "\"status\":201")) << s["update-create"] << f.node()->log();
  EXPECT_TRUE(has("update-create", "\"etag\":\"W/\\\"1\\\"\"")) << s["update-create"];
  EXPECT_TRUE(has("update-create", "\"location\":\"" + base + "/Patient/fkc-1/_history/1\"")) << s["update-create"];
  EXPECT_TRUE(has("read", "\"status\":200") && has("read", "\"versionId\":\"1\"")) << s["read"];
  EXPECT_TRUE(has("update-if-match", "\"status\":200") && has("update-if-match", "\"versionId\":\"2\"")) << s["update-if-match"];
  EXPECT_TRUE(has("update-stale", "\"status\":412") && has("update-stale", "OperationOutcome")) << s["update-stale"];
  EXPECT_TRUE(has("vread-1", "\"status\":200") && has("vread-1", "\"family\":\"Client\"")) << s["vread-1"];
  EXPECT_TRUE(has("conditional-update", "\"status\":200") && has("conditional-update", "\"id\":\"fkc-1\"") &&
              has("conditional-update", "\"versionId\":\"3\""))
      << s["conditional-update"];
  EXPECT_TRUE(has("create-if-none-exist", "\"status\":200") &&
              has("create-if-none-exist", "/Patient/fkc-1/_history/3"))
      << s["create-if-none-exist"];
  EXPECT_TRUE(has("create", "\"status\":201") && has("create", "\"resourceType\":\"Observation\"")) << s["create"];
  EXPECT_TRUE(has("transaction", "\"bundleType\":\"transaction-response\"") &&
              std::regex_search(s["transaction"], std::regex("\"status\":\"201 Created\",\"location\":\"Observation/")))
      << s["transaction"];
  EXPECT_TRUE(has("batch", "\"bundleType\":\"batch-response\"") && has("batch", "\"status\":\"201 Created\"") &&
              has("batch", "\"status\":\"400 Bad Request\""))
      << s["batch"];
  EXPECT_TRUE(has("delete", "\"status\":200")) << s["delete"];
  EXPECT_TRUE(has("read-deleted", "\"status\":410")) << s["read-deleted"];
}

TEST_F(FhirClientWrites, CurlGetsItsGoAheadBeforeALargeBody) {
  // curl asks "Expect: 100-continue" before a large body; the node says go ahead once the head
  // is accepted, so the body follows at once instead of after curl's own wait.
  std::string bigText(300 * 1024, 'a');
  const std::string body = R"({"resourceType":"Patient","id":"curl-1","name":[{"family":"Large","text":")" + bigText +
                           R"("}]})";
  const std::string bodyFile = writeFile(files.path(), "patient.json", body);
  const CommandResult r = runProgram(
      {"/usr/bin/curl", "-sS", "-v", "--expect100-timeout", "50", "-H", "Expect: 100-continue", "--cacert", ca, "--cert", cert,
       "--key", key, "-X", "PUT", "-H", "Content-Type: application/fhir+json", "-H", "X-Purpose-Of-Use: HOPERAT",
       "--data-binary", "@" + bodyFile, "-o", files.path() + "/answer.json", "-w", "status=%{http_code}\n",
       base + "/Patient/curl-1"},
      {}, std::chrono::seconds(40));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "< HTTP/1.1 100 Continue")) << r.output;
  EXPECT_TRUE(contains(r.output, "status=201")) << r.output;
}

TEST_F(FhirClientWrites, AnOrganizationThatMayNotWriteIsRefusedBeforeItsBodyIsRead) {
  // A member asks to send a large body: no go-ahead, a 403, and the body is never read.
  f.addOrg("urn:oid:2.16.840.1.113883.3.7001", "Lakeside Clinic");
  const Credential member = f.memberCert({"urn:oid:2.16.840.1.113883.3.7001"});
  // Added while the node runs: admitted once the node's registry has it.
  ASSERT_TRUE(waitFor([&] { return f.get(member).status == 200; }, std::chrono::seconds(10)));
  const std::string memberCert = writeFile(files.path(), "member.crt", f.pki.chainPem(member));
  const std::string memberKey = writeFile(files.path(), "member.key", member.keyPem());
  const std::string body = R"({"resourceType":"Patient","id":"m-1","name":[{"text":")" + std::string(2 * 1024 * 1024, 'a') +
                           R"("}]})";
  const std::string bodyFile = writeFile(files.path(), "big.json", body);
  const CommandResult r = runProgram(
      {"/usr/bin/curl", "-sS", "-v", "--expect100-timeout", "50", "-H", "Expect: 100-continue", "--cacert", ca,
       "--cert", memberCert, "--key", memberKey, "-X", "PUT", "-H", "Content-Type: application/fhir+json", "-H",
       "X-Purpose-Of-Use: HOPERAT", "--data-binary", "@" + bodyFile, "-o", files.path() + "/refused.json", "-w",
       "status=%{http_code}\n", base + "/Patient/m-1"},
      {}, std::chrono::seconds(40));
  EXPECT_TRUE(contains(r.output, "status=403")) << r.output;
  EXPECT_FALSE(contains(r.output, "100 Continue")) << r.output;
  EXPECT_TRUE(contains(f.node()->log(), "refused=role_not_allowed")) << f.node()->log();
}

TEST_F(FhirClientWrites, WriteAnswersAreValidR4) {
  const CommandResult r = runFhirTool("fhir-client-writes.js", {base, cert, key, ca});
  ASSERT_EQ(r.exitCode, 0) << r.output;
  // The answers themselves, as the node sends them, against the official R4 definitions.
  auto send = [&](const std::string& method, const std::string& path, const std::string& body) {
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                      "X-Purpose-Of-Use: HOPERAT\r\n";
    if (!body.empty()) req += "Content-Type: application/fhir+json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    return tlsExchange(f.node()->port(), f.pki.root, f.as(hospital), req + "\r\n" + body).body;
  };
  const std::string tx = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Patient","id":"v-1","name":[{"family":"Valid"}]},"request":{"method":"PUT","url":"Patient/v-1"}}]})";
  const std::string batch = R"({"resourceType":"Bundle","type":"batch","entry":[
    {"resource":{"resourceType":"Patient","id":"v-2"},"request":{"method":"PUT","url":"Patient/v-2"}},
    {"request":{"method":"DELETE","url":"Patient/never-there"}}]})";
  const std::string bad = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Patient","id":"v-3","name":[]},"request":{"method":"PUT","url":"Patient/v-3"}}]})";
  TempDir out;
  const CommandResult valid = validateFhirR4({{"transaction-response", send("POST", "/fhir", tx)},
                                              {"batch-response", send("POST", "/fhir", batch)},
                                              {"refused-transaction", send("POST", "/fhir", bad)},
                                              {"put", send("PUT", "/fhir/Patient/v-4", R"({"resourceType":"Patient","id":"v-4"})")},
                                              {"delete", send("DELETE", "/fhir/Patient/v-4", "")}},
                                             out.path());
  EXPECT_EQ(valid.exitCode, 0) << valid.output;
}

}  // namespace
}  // namespace hie::testing

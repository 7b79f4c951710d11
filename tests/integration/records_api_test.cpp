// Patient records over real mTLS: grants, purpose of use, consent,
// break-glass, paging, hostile search input, and the bundle importer.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "tests/support/node_fixture.h"

namespace hie::testing {
namespace {

const std::string kLakeside = "urn:oid:2.16.840.1.113883.3.7001";
const std::string kRiver = "urn:oid:2.16.840.1.113883.3.7002";
const std::string kNet = "urn:oid:2.16.840.1.113883.3.7000.1";

long long total(const HttpResult& r) {
  std::smatch m;
  if (!std::regex_search(r.body, m, std::regex("\"total\":(\\d+)"))) return -1;
  return std::stoll(m[1]);
}

class RecordsApi : public ::testing::Test {
 protected:
  void SetUp() override {
    f.migrate();
    f.addOrg(kLakeside, "Lakeside Clinic");
    f.addOrg(kRiver, "River Hospital");
    ok(f.cli({"grant", "add", "--org", kLakeside, "--resource", "Patient,DocumentReference,Observation",
              "--action", "read,search", "--purpose", "TREAT", "--purpose", "ETREAT"}));
    ok(f.cli({"records", "import", std::string(HIE_SOURCE_DIR) + "/config/demo/bundle.json"}));
    lakeside = f.memberCert({kLakeside});
    river = f.memberCert({kRiver});
  }

  void ok(const CommandResult& r) { ASSERT_EQ(r.exitCode, 0) << r.output; }

  // Bodies come back with PostgreSQL's JSON spacing ("id": "x"); tests compare without it.
  HttpResult get(const Credential& who, const std::string& path, const std::string& purpose = "TREAT") {
    std::vector<std::string> headers;
    if (!purpose.empty()) headers.push_back("X-Purpose-Of-Use: " + purpose);
    HttpResult r = f.get(who, path, headers);
    r.body = std::regex_replace(r.body, std::regex("([:,]) "), "$1");
    return r;
  }

  long long countRows();

  NodeFixture f;
  Credential lakeside, river;
};

}  // namespace
}  // namespace hie::testing

#include <pqxx/pqxx>

namespace hie::testing {
namespace {

long long RecordsApi::countRows() {
  pqxx::connection c(f.db.uri());
  pqxx::read_transaction tx(c);
  return tx.exec1("SELECT (SELECT count(*) FROM fhir_resources) + (SELECT count(*) FROM patient_identifiers)")[0]
      .as<long long>();
}

TEST_F(RecordsApi, GrantedOrganizationReadsAndSearches) {
  f.start();
  auto patient = get(lakeside, "/fhir/Patient/p-ava");
  ASSERT_EQ(patient.status, 200) << patient.body << f.node()->log();
  EXPECT_TRUE(contains(patient.body, "\"id\":\"p-ava\"")) << patient.body;
  EXPECT_TRUE(contains(patient.body, "\"versionId\":\"1\"")) << patient.body;
  EXPECT_EQ(patient.header("Content-Type"), "application/fhir+json");

  auto docs = get(lakeside, "/fhir/DocumentReference?patient=p-ava");
  ASSERT_EQ(docs.status, 200) << docs.body;
  EXPECT_TRUE(contains(docs.body, "\"type\":\"searchset\""));
  EXPECT_EQ(total(docs), 2);
  EXPECT_TRUE(contains(docs.body, "p-ava-doc-1") && contains(docs.body, "p-ava-doc-2"));
  EXPECT_FALSE(contains(docs.body, "p-ben")) << "another patient's documents leaked";

  auto byNetworkId = get(lakeside, "/fhir/Observation?patient.identifier=" + kNet + "%7CNET-1002");
  ASSERT_EQ(byNetworkId.status, 200) << byNetworkId.body;
  EXPECT_EQ(total(byNetworkId), 3);
  EXPECT_TRUE(contains(byNetworkId.body, "p-ben-obs-1"));

  auto patients = get(lakeside, "/fhir/Patient?identifier=" + kNet + "%7CNET-1003");
  ASSERT_EQ(patients.status, 200);
  EXPECT_EQ(total(patients), 1);
  EXPECT_TRUE(contains(patients.body, "\"id\":\"p-cara\""));

  auto doc = get(lakeside, "/fhir/DocumentReference/p-ava-doc-1");
  EXPECT_EQ(doc.status, 200);
  auto missing = get(lakeside, "/fhir/DocumentReference/no-such-doc");
  EXPECT_EQ(missing.status, 404);
  // The log names no patient: resource ids in paths are replaced, identifiers are never logged.
  EXPECT_FALSE(contains(f.node()->log(), "p-ava")) << f.node()->log();
  EXPECT_FALSE(contains(f.node()->log(), "NET-100")) << f.node()->log();
  EXPECT_TRUE(contains(f.node()->log(), "path=\"/fhir/Patient/{id}\"")) << f.node()->log();
}

TEST_F(RecordsApi, OrganizationWithoutAGrantIsRefused) {
  f.start();
  auto r = get(river, "/fhir/Patient/p-ava");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_FALSE(contains(r.body, "Ava"));
  EXPECT_EQ(get(river, "/fhir/DocumentReference?patient=p-ava").status, 403);
  // A type outside Lakeside's grant.
  EXPECT_EQ(get(lakeside, "/fhir/Condition/p-ava-cond-1").status, 403);
}

TEST_F(RecordsApi, PurposeOfUseIsRequiredAndMustBeGranted) {
  f.start();
  EXPECT_EQ(get(lakeside, "/fhir/Patient/p-ava", "").status, 400);
  EXPECT_EQ(get(lakeside, "/fhir/Patient/p-ava", "SNOOPING").status, 400);
  EXPECT_EQ(get(lakeside, "/fhir/Patient/p-ava", "treat").status, 400);
  EXPECT_EQ(get(lakeside, "/fhir/Patient/p-ava", "HPAYMT").status, 403);
  auto twice = f.get(lakeside, "/fhir/Patient/p-ava", {"X-Purpose-Of-Use: TREAT", "X-Purpose-Of-Use: HPAYMT"});
  EXPECT_EQ(twice.status, 400);
}

TEST_F(RecordsApi, OptedOutPatientLooksLikeNoPatient) {
  f.start();
  ASSERT_EQ(get(lakeside, "/fhir/Patient/p-cara").status, 200);
  ok(f.cli({"consent", "set", "--patient", "p-cara", "--opt-out"}));
  ASSERT_TRUE(waitFor([&] { return get(lakeside, "/fhir/Patient/p-cara").status == 404; }, std::chrono::seconds(2)));
  auto read = get(lakeside, "/fhir/Patient/p-cara");
  auto absent = get(lakeside, "/fhir/Patient/nobody-here");
  EXPECT_EQ(read.body, absent.body) << "a refused patient must look exactly like a missing one";
  auto search = get(lakeside, "/fhir/Observation?patient=p-cara");
  EXPECT_EQ(search.status, 200);
  EXPECT_EQ(total(search), 0);
  auto byIdent = get(lakeside, "/fhir/Patient?identifier=" + kNet + "%7CNET-1003");
  EXPECT_EQ(total(byIdent), 0);
  // Emergency treatment does not override the opt-out unless the node allows break-glass.
  EXPECT_EQ(get(lakeside, "/fhir/Patient/p-cara", "ETREAT").status, 404);
  // Other patients are unaffected.
  EXPECT_EQ(get(lakeside, "/fhir/Patient/p-ava").status, 200);
}

TEST_F(RecordsApi, BreakGlassOnlyWhenConfigured) {
  ok(f.cli({"consent", "set", "--patient", "p-cara", "--opt-out"}));
  f.config["policy.breakGlass"] = "true";
  f.writeConfig();
  f.start();
  auto treat = get(lakeside, "/fhir/Patient/p-cara", "TREAT");
  EXPECT_EQ(treat.status, 404);
  auto emergency = get(lakeside, "/fhir/Patient/p-cara", "ETREAT");
  EXPECT_EQ(emergency.status, 200) << emergency.body;
  auto search = get(lakeside, "/fhir/Observation?patient=p-cara", "ETREAT");
  EXPECT_EQ(total(search), 3);
  EXPECT_TRUE(contains(f.node()->log(), "purpose=\"ETREAT\" break_glass=true")) << f.node()->log();
}

TEST_F(RecordsApi, PatientDenyingAnOrganizationIsHiddenFromItOnly) {
  ok(f.cli({"grant", "add", "--org", kRiver, "--resource", "Patient", "--action", "read", "--purpose", "TREAT"}));
  ok(f.cli({"consent", "set", "--patient", "p-ben", "--deny-org", kLakeside}));
  f.start();
  EXPECT_EQ(get(lakeside, "/fhir/Patient/p-ben").status, 404);
  EXPECT_EQ(get(lakeside, "/fhir/Patient/p-ben", "ETREAT").status, 404);
  EXPECT_EQ(get(river, "/fhir/Patient/p-ben").status, 200);
  ok(f.cli({"consent", "set", "--patient", "p-ben", "--clear"}));
  EXPECT_TRUE(waitFor([&] { return get(lakeside, "/fhir/Patient/p-ben").status == 200; }, std::chrono::seconds(2)));
}

TEST_F(RecordsApi, GrantChangesTakeEffectWithoutRestart) {
  f.start();
  ASSERT_EQ(get(river, "/fhir/Patient/p-ava").status, 403);
  ok(f.cli({"grant", "add", "--org", kRiver, "--resource", "Patient", "--action", "read", "--purpose", "TREAT"}));
  ASSERT_TRUE(waitFor([&] { return get(river, "/fhir/Patient/p-ava").status == 200; }, std::chrono::seconds(2)));
  auto list = f.cli({"grant", "list", "--org", kRiver});
  std::smatch m;
  ASSERT_TRUE(std::regex_search(list.output, m, std::regex("^(\\d+) ")) ) << list.output;
  ok(f.cli({"grant", "revoke", m[1]}));
  EXPECT_TRUE(waitFor([&] { return get(river, "/fhir/Patient/p-ava").status == 403; }, std::chrono::seconds(2)));
}

TEST_F(RecordsApi, PagingReturnsEveryMatchExactlyOnce) {
  std::string entries =
      R"({"resource":{"resourceType":"Patient","id":"p-many","identifier":[{"system":"urn:oid:2.16.840.1.113883.3.7000.1","value":"NET-9"}]}})";
  for (int i = 0; i < 23; ++i) {
    entries += R"(,{"resource":{"resourceType":"Observation","id":"m-)" + std::to_string(1000 + i * 7 % 23) +
               R"(","status":"final","code":{"text":"pulse"},"subject":{"reference":"Patient/p-many"}}})";
  }
  const std::string path = writeFile(f.dir.path(), "many.json",
                                     R"({"resourceType":"Bundle","type":"collection","entry":[)" + entries + "]}");
  ok(f.cli({"records", "import", path}));
  f.start();
  std::set<std::string> seen;
  int pages = 0;
  std::string next = "/fhir/Observation?patient.identifier=" + kNet + "%7CNET-9&_count=5";
  while (!next.empty() && pages < 20) {
    auto page = get(lakeside, next);
    ASSERT_EQ(page.status, 200) << page.body;
    EXPECT_EQ(total(page), 23);
    ++pages;
    static const std::regex kId("\"id\":\"(m-\\d+)\"");
    for (std::sregex_iterator it(page.body.begin(), page.body.end(), kId), end; it != end; ++it) {
      EXPECT_TRUE(seen.insert((*it)[1]).second) << "returned twice: " << (*it)[1];
    }
    std::smatch m;
    next.clear();
    if (std::regex_search(page.body, m, std::regex("\"relation\":\"next\",\"url\":\"https://[^/]+(/fhir/[^\"]+)\""))) {
      next = m[1];
    }
  }
  EXPECT_EQ(seen.size(), 23u);
  EXPECT_EQ(pages, 5);
}

TEST_F(RecordsApi, HostileSearchInputGetsCleanErrors) {
  f.start();
  struct Case {
    std::string path;
    int status;
  };
  for (const Case& c : std::vector<Case>{
           {"/fhir/Observation?patient=p-ava'%20OR%20'1'='1", 400},
           {"/fhir/Observation?patient=p-ava&patient=p-ben", 400},
           {"/fhir/Observation?patient=p-ava&_count=1000000", 400},
           {"/fhir/Observation?patient=p-ava&_count=abc", 400},
           {"/fhir/Observation?patient=p-ava&resource-%3E%3E'id'=x", 400},
           {"/fhir/Observation?patient.identifier=x%7Cy%27%3B%20DROP%20TABLE%20fhir_resources%3B--", 200},
           {"/fhir/Observation", 400},
           {"/fhir/Observation/p-ava-obs-1;select", 400},
           {"/fhir/Medication/m1", 404},
           {"/fhir/Patient/p-ava?_format=xml", 400},
       }) {
    auto r = get(lakeside, c.path);
    EXPECT_EQ(r.status, c.status) << c.path << "\n" << r.body;
    if (c.status != 200) {
      EXPECT_TRUE(contains(r.body, "OperationOutcome")) << c.path;
    }
    EXPECT_FALSE(contains(r.body, "Lindqvist")) << c.path;
  }
  // The table is still there and intact.
  EXPECT_EQ(get(lakeside, "/fhir/Patient/p-ava").status, 200);
}

TEST_F(RecordsApi, ImportRejectsBadBundlesAndChangesNothing) {
  const long long before = countRows();
  struct Case {
    const char* name;
    std::string json;
    std::string says;
  };
  const std::string head = R"({"resourceType":"Bundle","type":"collection","entry":[)";
  const std::string good = R"({"resource":{"resourceType":"Patient","id":"p-new"}},)";
  for (const Case& c : std::vector<Case>{
           {"missing resourceType", head + good + R"({"resource":{"id":"x"}}]})", "entry 1: missing resourceType"},
           {"wrong resourceType", head + good + R"({"resource":{"resourceType":"Spaceship","id":"x"}}]})",
            "entry 1: unsupported"},
           {"missing id", head + good + R"({"resource":{"resourceType":"Observation","subject":{"reference":"Patient/p-new"}}}]})",
            "entry 1: missing id"},
           {"unknown patient", head + good + R"({"resource":{"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p-ghost"}}}]})",
            "entry 1: refers to Patient/p-ghost"},
           {"not json", "{\"resourceType\":", "not valid JSON"},
           {"not a bundle", R"({"resourceType":"Patient","id":"p"})", "Bundle"},
       }) {
    const std::string path = writeFile(f.dir.path(), "bad.json", c.json);
    auto r = f.cli({"records", "import", path});
    EXPECT_EQ(r.exitCode, 1) << c.name << ": " << r.output;
    EXPECT_TRUE(contains(r.output, c.says)) << c.name << ": " << r.output;
    EXPECT_TRUE(contains(r.output, "nothing was stored")) << c.name << ": " << r.output;
    EXPECT_EQ(countRows(), before) << c.name;
  }
  auto missingFile = f.cli({"records", "import", "/nonexistent/bundle.json"});
  EXPECT_EQ(missingFile.exitCode, 1);
  EXPECT_TRUE(contains(missingFile.output, "/nonexistent/bundle.json"));
  // A reference to a patient already in the store is fine, and re-import bumps the version.
  const std::string path = writeFile(
      f.dir.path(), "ok.json",
      head + R"({"resource":{"resourceType":"Observation","id":"p-ava-obs-1","status":"amended","code":{"text":"HbA1c"},"subject":{"reference":"Patient/p-ava"}}}]})");
  auto r = f.cli({"records", "import", path});
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "1 updated")) << r.output;
  EXPECT_EQ(countRows(), before);
  f.start();
  auto obs = get(lakeside, "/fhir/Observation/p-ava-obs-1");
  EXPECT_TRUE(contains(obs.body, "\"versionId\":\"2\"")) << obs.body;
  EXPECT_TRUE(contains(obs.body, "amended")) << obs.body;
}

TEST_F(RecordsApi, GrantAndConsentCommandsRefuseBadInput) {
  struct Case {
    std::vector<std::string> args;
    int exit;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {{"grant", "add", "--org", "urn:oid:1.2.3.999", "--resource", "Patient", "--action", "read", "--purpose", "TREAT"}, 1, "no organization"},
           {{"grant", "add", "--org", kRiver, "--resource", "Spaceship", "--action", "read", "--purpose", "TREAT"}, 2, "unsupported resource type"},
           {{"grant", "add", "--org", kRiver, "--resource", "Patient", "--action", "write", "--purpose", "TREAT"}, 2, "unknown action"},
           {{"grant", "add", "--org", kRiver, "--resource", "Patient", "--action", "read", "--purpose", "FUN"}, 2, "PurposeOfUse"},
           {{"grant", "add", "--org", kRiver, "--resource", "Patient", "--action", "read"}, 2, "--purpose"},
           {{"grant", "revoke", "abc"}, 2, "not a grant id"},
           {{"grant", "revoke", "987654"}, 1, "no active grant"},
           {{"consent", "set", "--patient", "p-ava"}, 2, "exactly one"},
           {{"consent", "set", "--patient", "p-ava", "--opt-out", "--clear"}, 2, "exactly one"},
           {{"consent", "set", "--patient", "bad id", "--opt-out"}, 2, "not a FHIR patient id"},
           {{"consent", "set", "--patient", "p-ava", "--deny-org", "urn:oid:1.2.3.999"}, 1, "no organization"},
       }) {
    auto r = f.cli(c.args);
    EXPECT_EQ(r.exitCode, c.exit) << r.output;
    EXPECT_TRUE(contains(r.output, c.says)) << "expected '" << c.says << "' in " << r.output;
  }
  auto list = f.cli({"grant", "list", "--org", kRiver});
  EXPECT_TRUE(contains(list.output, "no active grants")) << list.output;
}

}  // namespace
}  // namespace hie::testing

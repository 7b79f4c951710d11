// RecordApi against an in-memory RecordStore: purpose, grants, consent and
// paging, without a database or sockets.
#include "exchange/handlers/record_api.h"

#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "tests/support/memory_record_store.h"

namespace hie::exchange {
namespace {

const std::string kLakeside = "urn:oid:2.16.840.1.113883.3.7001";
const std::string kHarbor = "urn:oid:2.16.840.1.113883.3.7002";

Poco::JSON::Object::Ptr parse(const std::string& body) {
  Poco::JSON::Parser parser;
  return parser.parse(body).extract<Poco::JSON::Object::Ptr>();
}

class RecordApiTest : public ::testing::Test {
 protected:
  RecordApiTest() {
    store.put("Patient", "p1", "p1", {{"urn:mrn", "123"}});
    store.put("Patient", "p2", "p2", {{"urn:mrn", "456"}});
    for (const char* id : {"obs-1", "obs-2", "obs-3"}) store.put("Observation", id, "p1");
    store.put("Observation", "obs-9", "p2");
    registry.organizations = {lakeside, harbor};
    registry.grantsByOrganization[kLakeside] = {
        auth::Grant{1, kLakeside, {"Patient", "Observation"}, {auth::Action::kRead, auth::Action::kSearch},
                    {"TREAT", "ETREAT"}}};
  }

  HttpReply get(const std::string& path, HeaderList query = {}, std::vector<std::string> purposes = {"TREAT"},
                const auth::Organization* org = nullptr, const std::string& method = "GET") {
    HttpCall call;
    call.method = method;
    call.path = path;
    call.query = std::move(query);
    for (const auto& p : purposes) call.headers.emplace_back("X-Purpose-Of-Use", p);
    return api.handle(call, org ? *org : lakeside, registry, "https://node-a.example:8443");
  }

  auth::Organization lakeside{kLakeside, "Lakeside", auth::OrganizationStatus::kActive, {auth::Role::kMember}, {}, {}};
  auth::Organization harbor{kHarbor, "Harbor", auth::OrganizationStatus::kActive, {auth::Role::kMember}, {}, {}};
  auth::RegistrySnapshot registry;
  hie::testing::MemoryRecordStore store;
  RecordApiSettings settings;
  RecordApi api{store, settings};
};

TEST_F(RecordApiTest, ReadReturnsTheStoredResourceAndTellsTheAuditWhatWasDisclosed) {
  auto reply = get("/fhir/Patient/p1");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.body, "{\"resourceType\":\"Patient\",\"id\":\"p1\"}");
  EXPECT_EQ(reply.contentType, "application/fhir+json");
  EXPECT_TRUE(reply.refusalReason.empty());
  EXPECT_EQ(reply.access.action, "read");
  EXPECT_EQ(reply.access.resourceType, "Patient");
  EXPECT_EQ(reply.access.resourceId, "p1");
  EXPECT_EQ(reply.access.patientId, "p1");
  EXPECT_EQ(reply.access.entities, "Patient/p1");
  EXPECT_EQ(reply.access.resultCount, 1);
  EXPECT_FALSE(reply.access.breakGlass);
}

TEST_F(RecordApiTest, AHiddenPatientLooksExactlyLikeAMissingOne) {
  registry.consents["p1"].optedOut = true;
  registry.consents["p2"].deniedOrganizations = {kLakeside};
  auto missing = get("/fhir/Patient/nobody");
  auto optedOut = get("/fhir/Patient/p1");
  auto denied = get("/fhir/Observation/obs-9");
  for (const auto* r : {&missing, &optedOut, &denied}) {
    EXPECT_EQ(r->status, 404);
    EXPECT_EQ(r->body, missing.body);
    EXPECT_TRUE(r->access.entities.empty());
    EXPECT_EQ(r->access.resultCount, 0);
  }
  EXPECT_EQ(missing.refusalReason, "not_found");
  EXPECT_EQ(optedOut.refusalReason, "patient_opted_out");
  EXPECT_EQ(denied.refusalReason, "patient_denied_organization");
  // The audit still names whose data was asked for.
  EXPECT_EQ(optedOut.access.patientId, "p1");
  EXPECT_EQ(denied.access.patientId, "p2");
}

TEST_F(RecordApiTest, BreakGlassOverridesAnOptOutOnlyWhenConfiguredAndIsMarked) {
  registry.consents["p1"].optedOut = true;
  EXPECT_EQ(get("/fhir/Patient/p1", {}, {"ETREAT"}).status, 404);
  RecordApiSettings open = settings;
  open.policy.breakGlass = true;
  RecordApi breakGlass{store, open};
  HttpCall call;
  call.method = "GET";
  call.path = "/fhir/Patient/p1";
  call.headers = {{"X-Purpose-Of-Use", "ETREAT"}};
  auto reply = breakGlass.handle(call, lakeside, registry, "https://n");
  EXPECT_EQ(reply.status, 200);
  EXPECT_TRUE(reply.access.breakGlass);
  call.headers = {{"X-Purpose-Of-Use", "TREAT"}};
  EXPECT_EQ(breakGlass.handle(call, lakeside, registry, "https://n").status, 404);
}

TEST_F(RecordApiTest, RefusalsBeforeTheStoreNeverReachIt) {
  struct Case {
    std::string path;
    std::vector<std::string> purposes;
    const auth::Organization* org;
    std::string method;
    int status;
    std::string reason;
  };
  const std::vector<Case> cases{
      {"/fhir/Patient/p1", {}, nullptr, "GET", 400, "missing_purpose"},
      {"/fhir/Patient/p1", {"TREAT", "TREAT"}, nullptr, "GET", 400, "invalid_purpose"},
      {"/fhir/Patient/p1", {"NOTACODE"}, nullptr, "GET", 400, "invalid_purpose"},
      {"/fhir/Patient/p1", {"HPAYMT"}, nullptr, "GET", 403, "no_grant"},       // purpose not granted
      {"/fhir/Condition/c1", {"TREAT"}, nullptr, "GET", 403, "no_grant"},      // type not granted
      {"/fhir/Patient/p1", {"TREAT"}, &harbor, "GET", 403, "no_grant"},        // organization without grants
      {"/fhir/Patient/p1", {"TREAT"}, nullptr, "DELETE", 405, "method_not_allowed"},
      {"/fhir/Medication/m1", {"TREAT"}, nullptr, "GET", 404, "unsupported_type"},
      {"/fhir/Patient/bad id", {"TREAT"}, nullptr, "GET", 400, "invalid_request"},
  };
  for (const auto& c : cases) {
    auto reply = get(c.path, {}, c.purposes, c.org, c.method);
    EXPECT_EQ(reply.status, c.status) << c.path << " " << c.reason;
    EXPECT_EQ(reply.refusalReason, c.reason) << c.path;
    EXPECT_NE(reply.body.find("\"resourceType\":\"OperationOutcome\""), std::string::npos);
  }
  EXPECT_EQ(store.calls, 0);
  // Writes are routed to RecordWriteApi by the gate; here the Allow field names what the path takes.
  EXPECT_EQ(get("/fhir/Patient/p1", {}, {"TREAT"}, nullptr, "PATCH").headers,
            (HeaderList{{"Allow", "GET, HEAD, PUT, DELETE"}}));
  EXPECT_EQ(get("/fhir/Patient", {}, {"TREAT"}, nullptr, "PATCH").headers,
            (HeaderList{{"Allow", "GET, HEAD, POST, PUT"}}));
}

TEST_F(RecordApiTest, SearchPagesWithTotalAndNextLink) {
  auto reply = get("/fhir/Observation", {{"patient", "p1"}, {"_count", "2"}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  auto bundle = parse(reply.body);
  EXPECT_EQ(bundle->getValue<std::string>("type"), "searchset");
  EXPECT_EQ(bundle->getValue<int>("total"), 3);
  auto entries = bundle->getArray("entry");
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ(entries->getObject(0)->getValue<std::string>("fullUrl"),
            "https://node-a.example:8443/fhir/Observation/obs-1");
  auto links = bundle->getArray("link");
  ASSERT_EQ(links->size(), 2u);
  EXPECT_EQ(links->getObject(1)->getValue<std::string>("relation"), "next");
  const std::string next = links->getObject(1)->getValue<std::string>("url");
  EXPECT_NE(next.find("obs-2"), std::string::npos) << next;  // the keyset cursor is the last id shown
  EXPECT_EQ(reply.access.action, "search");
  EXPECT_EQ(reply.access.patientId, "p1");
  EXPECT_EQ(reply.access.entities, "Observation/obs-1,Observation/obs-2");
  EXPECT_EQ(reply.access.resultCount, 2);

  auto byIdentifier = get("/fhir/Patient", {{"identifier", "urn:mrn|456"}});
  ASSERT_EQ(byIdentifier.status, 200);
  EXPECT_EQ(parse(byIdentifier.body)->getValue<int>("total"), 1);
  EXPECT_EQ(byIdentifier.access.patientQuery, "urn:mrn|456");
  EXPECT_EQ(byIdentifier.access.entities, "Patient/p2");
}

TEST_F(RecordApiTest, SearchLeavesOutPatientsWhoseConsentRefusesAndCountsThemNowhere) {
  registry.consents["p1"].deniedOrganizations = {kLakeside};
  auto byId = get("/fhir/Observation", {{"patient", "p1"}});
  ASSERT_EQ(byId.status, 200);
  auto bundle = parse(byId.body);
  EXPECT_EQ(bundle->getValue<int>("total"), 0);
  EXPECT_FALSE(bundle->has("entry"));
  EXPECT_EQ(byId.refusalReason, "patient_denied_organization");  // for the audit; the caller sees no matches
  auto byIdentifier = get("/fhir/Patient", {{"identifier", "urn:mrn|123"}});
  EXPECT_EQ(parse(byIdentifier.body)->getValue<int>("total"), 0);
  // Another organization still sees them.
  registry.grantsByOrganization[kHarbor] = {
      auth::Grant{2, kHarbor, {"Observation"}, {auth::Action::kSearch}, {"TREAT"}}};
  EXPECT_EQ(parse(get("/fhir/Observation", {{"patient", "p1"}}, {"TREAT"}, &harbor).body)->getValue<int>("total"), 3);
}

TEST_F(RecordApiTest, AStoreFailureIsA503WithTheDetailKeptForTheLog) {
  store.down = true;
  for (auto reply : {get("/fhir/Patient/p1"), get("/fhir/Observation", {{"patient", "p1"}})}) {
    EXPECT_EQ(reply.status, 503);
    EXPECT_EQ(reply.internalError, "down");
    EXPECT_EQ(reply.body.find("down"), std::string::npos);  // the detail never reaches the peer
  }
}

}  // namespace
}  // namespace hie::exchange

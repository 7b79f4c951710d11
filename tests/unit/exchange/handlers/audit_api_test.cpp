// AuditApi (the auditors' /audit API) against an in-memory AuditReader: role,
// parameters into the filter, paging links, rendering, store failure.
#include "exchange/handlers/audit_api.h"

#include <gtest/gtest.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "audit/canonical_form.h"
#include "tests/support/memory_audit_reader.h"

namespace hie::exchange {
namespace {

const std::string kAuditor = "urn:oid:2.16.840.1.113883.3.7009";
const std::string kBase = "https://node-a.example:8443";

Poco::JSON::Object::Ptr parse(const std::string& body) {
  Poco::JSON::Parser parser;
  return parser.parse(body).extract<Poco::JSON::Object::Ptr>();
}

class AuditApiTest : public ::testing::Test {
 protected:
  HttpReply get(const std::string& path, HeaderList query = {}, const auth::Organization* org = nullptr,
                const std::string& method = "GET") {
    HttpCall call;
    call.method = method;
    call.path = path;
    call.query = std::move(query);
    return api.handle(call, org ? *org : auditor, kBase);
  }
  static audit::AuditEvent event(const std::string& requestId) {
    audit::AuditEvent e;
    e.time = "2026-11-26T10:00:00.000Z";
    e.eventType = "rest";
    e.action = "read";
    e.outcome = "success";
    e.organization = "urn:oid:2.16.840.1.113883.3.7001";
    e.method = "GET";
    e.path = "/fhir/Patient/p1";
    e.resourceType = "Patient";
    e.resourceId = "p1";
    e.patient = "Patient/p1";
    e.purpose = "TREAT";
    e.httpStatus = 200;
    e.requestId = requestId;
    return e;
  }
  // A v1 chain entry.
  audit::TrailEntry sealed(const std::string& requestId) {
    auto entry = audit::seal(event(requestId), "node-a", head, *key);
    EXPECT_TRUE(entry);
    return audit::TrailEntry::fromChain(*entry);
  }
  // A v2 log leaf.
  static audit::TrailEntry leaf(const std::string& requestId, std::uint64_t index) {
    return audit::TrailEntry::fromLeaf(kOrigin, static_cast<std::int64_t>(index),
                                       audit::canonicalJson(audit::leafObject(event(requestId), "node-a", index)));
  }
  static constexpr const char* kOrigin = "hie-node/node-a/audit";

  auth::Organization auditor{kAuditor, "Audit Office", auth::OrganizationStatus::kActive, {auth::Role::kAuditor}, {}, {}};
  auth::Organization member{"urn:oid:2.16.840.1.113883.3.7001", "Lakeside", auth::OrganizationStatus::kActive,
                            {auth::Role::kMember, auth::Role::kLocal}, {}, {}};
  Result<audit::SigningKey> key = audit::SigningKey::generate();
  audit::ChainHead head{"node-a/2026-11-26T10-00-00Z/000000000001", 0, audit::kGenesisHash};
  hie::testing::MemoryAuditReader reader;
  AuditApi api{reader};
};

TEST_F(AuditApiTest, OnlyAuditorsMayReadAndNothingIsReadForOthers) {
  auto reply = get("/audit/AuditEvent", {}, &member);
  EXPECT_EQ(reply.status, 403);
  EXPECT_EQ(reply.refusalReason, "role_not_allowed");
  EXPECT_EQ(reply.access.action, "audit-query");
  EXPECT_TRUE(reader.asked.empty());
}

TEST_F(AuditApiTest, RoutesAndMethods) {
  auto unknown = get("/audit/Other");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.refusalReason, "no_route");
  auto post = get("/audit/AuditEvent", {}, nullptr, "POST");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.headers, (HeaderList{{"Allow", "GET"}}));
  EXPECT_TRUE(reader.asked.empty());
}

TEST_F(AuditApiTest, ParametersBecomeTheFilterAndTheLinksCarryThemOn) {
  reader.page.total = 31;
  reader.page.more = true;
  auto reply = get("/audit/AuditEvent", {{"date", "ge2026-11-01"},
                                         {"date", "le2026-11-30T23:59:59Z"},
                                         {"agent", "urn:oid:1.2.3"},
                                         {"patient", "Patient/p1"},
                                         {"outcome", "denied"},
                                         {"_count", "10"},
                                         {"_offset", "20"}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  ASSERT_EQ(reader.asked.size(), 1u);
  const audit::AuditFilter& f = reader.asked[0];
  EXPECT_EQ(f.from, "2026-11-01");
  EXPECT_EQ(f.to, "2026-11-30T23:59:59Z");
  EXPECT_EQ(f.organization, "urn:oid:1.2.3");
  EXPECT_EQ(f.patient, "Patient/p1");
  EXPECT_EQ(f.outcome, "denied");
  EXPECT_EQ(f.count, 10);
  EXPECT_EQ(f.offset, 20);
  EXPECT_FALSE(f.disclosuresOnly);
  auto bundle = parse(reply.body);
  EXPECT_EQ(bundle->getValue<int>("total"), 31);
  EXPECT_FALSE(bundle->has("entry"));  // no match: no empty array
  auto links = bundle->getArray("link");
  ASSERT_EQ(links->size(), 2u);
  const std::string self = links->getObject(0)->getValue<std::string>("url");
  const std::string next = links->getObject(1)->getValue<std::string>("url");
  const std::string query = kBase +
                            "/audit/AuditEvent?date=ge2026-11-01&date=le2026-11-30T23%3A59%3A59Z"
                            "&agent=urn%3Aoid%3A1.2.3&patient=Patient%2Fp1&outcome=denied&_count=10&_offset=";
  EXPECT_EQ(self, query + "20");
  EXPECT_EQ(next, query + "30");
  EXPECT_EQ(reply.access.patientId, "p1");
  EXPECT_EQ(reply.access.action, "audit-query");
}

TEST_F(AuditApiTest, TheAccountingOfDisclosuresNeedsAPatient) {
  auto reply = get("/audit/disclosures", {{"patient", "p1"}, {"hipaa", "true"}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  ASSERT_EQ(reader.asked.size(), 1u);
  EXPECT_TRUE(reader.asked[0].disclosuresOnly);
  EXPECT_TRUE(reader.asked[0].hipaaAccounting);
  EXPECT_EQ(reader.asked[0].patient, "Patient/p1");
  EXPECT_EQ(get("/audit/disclosures").status, 400);
  EXPECT_EQ(reader.asked.size(), 1u);
}

TEST_F(AuditApiTest, InvalidParametersAreRefusedBeforeReading) {
  const std::vector<std::pair<std::string, HeaderList>> cases{
      {"/audit/AuditEvent", {{"agent", "urn:oid:1.2"}, {"agent", "urn:oid:1.3"}}},
      {"/audit/AuditEvent", {{"date", "ge2026-01-01"}, {"date", "le2026-02-01"}, {"date", "ge2026-01-02"}}},
      {"/audit/AuditEvent", {{"date", "eq2026-01-01"}}},
      {"/audit/AuditEvent", {{"date", "ge2026-1-1"}}},
      {"/audit/AuditEvent", {{"agent", "Lakeside"}}},
      {"/audit/AuditEvent", {{"patient", "Patient/a b"}}},
      {"/audit/AuditEvent", {{"outcome", "maybe"}}},
      {"/audit/AuditEvent", {{"_count", "0"}}},
      {"/audit/AuditEvent", {{"_count", "101"}}},
      {"/audit/AuditEvent", {{"_count", "ten"}}},
      {"/audit/AuditEvent", {{"_offset", "-1"}}},
      {"/audit/AuditEvent", {{"hipaa", "true"}}},        // disclosures only
      {"/audit/disclosures", {{"patient", "p1"}, {"agent", "urn:oid:1.2"}}},  // AuditEvent only
      {"/audit/disclosures", {{"patient", "p1"}, {"hipaa", "yes"}}},
      {"/audit/AuditEvent", {{"secret", "1"}}},
  };
  for (const auto& [path, query] : cases) {
    auto reply = get(path, query);
    EXPECT_EQ(reply.status, 400) << path << " " << query.front().first << "=" << query.front().second;
    EXPECT_EQ(reply.refusalReason, "invalid_request");
  }
  EXPECT_TRUE(reader.asked.empty());
}

TEST_F(AuditApiTest, EntriesOfBothFormatsAreRenderedAndADamagedOneIsShownNotDropped) {
  reader.page.entries = {sealed("req-1"), leaf("req-2", 7), sealed("req-3"), leaf("req-4", 8)};
  reader.page.entries[2].text = "{not an entry";
  reader.page.entries[3].text = "{\"index\":8,";
  reader.page.total = 4;
  auto reply = get("/audit/AuditEvent");
  ASSERT_EQ(reply.status, 200) << reply.body;
  auto entries = parse(reply.body)->getArray("entry");
  ASSERT_EQ(entries->size(), 4u);
  for (unsigned i : {0u, 1u}) {
    auto good = entries->getObject(i);
    EXPECT_EQ(good->getObject("resource")->getValue<std::string>("resourceType"), "AuditEvent");
    EXPECT_EQ(good->getObject("search")->getValue<std::string>("mode"), "match");
  }
  for (unsigned i : {2u, 3u}) {
    auto damaged = entries->getObject(i);
    EXPECT_EQ(damaged->getObject("resource")->getValue<std::string>("resourceType"), "OperationOutcome");
    EXPECT_EQ(damaged->getObject("search")->getValue<std::string>("mode"), "outcome");
  }
  EXPECT_NE(reply.body.find("audit entry " + head.chain + " #2 cannot be rendered"), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find("audit log entry hie-node/node-a/audit #8 cannot be rendered"), std::string::npos)
      << reply.body;
  EXPECT_EQ(reply.access.resultCount, 4);
}

TEST_F(AuditApiTest, AReaderFailureIsItsStatusWithTheDetailKeptForTheLog) {
  reader.failure = Error{ErrorCode::kUnavailable, "connection refused", "The service is temporarily unavailable."};
  auto reply = get("/audit/AuditEvent", {{"patient", "p9"}});
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.internalError, "connection refused");
  EXPECT_EQ(reply.body.find("connection refused"), std::string::npos);
  EXPECT_EQ(reply.access.action, "audit-query");
  EXPECT_EQ(reply.access.patientId, "p9");
  reader.failure = Error{ErrorCode::kInvalidInput, "date out of range", "Invalid date."};
  EXPECT_EQ(get("/audit/AuditEvent").status, 400);
}

}  // namespace
}  // namespace hie::exchange

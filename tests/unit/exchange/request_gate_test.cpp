#include "exchange/request_gate.h"

#include <gtest/gtest.h>

#include "audit/canonical_form.h"
#include "exchange/audit_events.h"
#include "exchange/request_id.h"
#include "tests/support/memory_record_store.h"

namespace hie::exchange {
namespace {

class FixedDirectory : public auth::OrganizationDirectory {
 public:
  explicit FixedDirectory(std::vector<auth::Organization> orgs) {
    auto snap = std::make_shared<auth::RegistrySnapshot>();
    snap->organizations = std::move(orgs);
    orgs_ = snap;
  }
  auth::OrganizationSnapshot snapshot() const override { return orgs_; }

 private:
  auth::OrganizationSnapshot orgs_;
};

const std::string kLakeside = "urn:oid:2.16.840.1.113883.3.7001";

class RequestGateTest : public ::testing::Test {
 protected:
  FixedDirectory directory{{{kLakeside, "Lakeside", auth::OrganizationStatus::kActive, {auth::Role::kMember}, {}},
                            {"urn:oid:1.9", "Closed", auth::OrganizationStatus::kSuspended, {}, {}}}};
  CapabilityStatementHandler metadata{NodeDescription{"node-a", "urn:oid:1.2", "0.1.0", {}}};
  Counters counters;
  hie::testing::MemoryRecordStore store;
  RecordApi records{store, RecordApiSettings{}};
  db::ConnectionPool unusedPool{"postgresql:///unused", 1};
  AuditApi auditApi{unusedPool, ""};
  RequestGate gate{directory, metadata, records, auditApi, nullptr, counters};

  static HttpCall call(const std::string& path, const std::string& method = "GET") {
    HttpCall c;
    c.method = method;
    c.path = path;
    return c;
  }
  static auth::PeerIdentity peer(std::vector<std::string> uris) {
    auth::PeerIdentity p;
    p.sanUris = std::move(uris);
    p.certSha256 = std::string(64, '0');
    return p;
  }
};

TEST_F(RequestGateTest, AdmittedOrganizationGetsMetadata) {
  auto out = gate.handle(call("/fhir/metadata"), peer({kLakeside}));
  EXPECT_EQ(out.reply.status, 200);
  EXPECT_EQ(out.organization, kLakeside);
  EXPECT_NE(out.reply.body.find("\"resourceType\":\"CapabilityStatement\""), std::string::npos);
  EXPECT_EQ(out.reply.contentType, "application/fhir+json");
}

TEST_F(RequestGateTest, RefusalsAreCountedByReasonAndSayNothingSpecific) {
  auto unknown = gate.handle(call("/fhir/metadata"), peer({"urn:oid:7.7"}));
  auto suspended = gate.handle(call("/fhir/metadata"), peer({"urn:oid:1.9"}));
  auto ambiguous = gate.handle(call("/fhir/metadata"), peer({kLakeside, "urn:oid:1.9"}));
  for (const auto* r : {&unknown, &suspended, &ambiguous}) {
    EXPECT_EQ(r->reply.status, 403);
    EXPECT_TRUE(r->organization.empty());
  }
  // The peer cannot tell the three apart.
  EXPECT_EQ(unknown.reply.body, suspended.reply.body);
  EXPECT_EQ(unknown.reply.body, ambiguous.reply.body);
  EXPECT_EQ(counters.get("refused.identity.unknown_organization"), 1u);
  EXPECT_EQ(counters.get("refused.identity.suspended_organization"), 1u);
  EXPECT_EQ(counters.get("refused.identity.ambiguous_identity"), 1u);
}

TEST_F(RequestGateTest, IdentityIsCheckedBeforeRouting) {
  auto out = gate.handle(call("/no/such/path"), peer({"urn:oid:7.7"}));
  EXPECT_EQ(out.reply.status, 403);
}

TEST_F(RequestGateTest, UnknownPathAndWrongMethod) {
  EXPECT_EQ(gate.handle(call("/fhir/Unknown"), peer({kLakeside})).reply.status, 404);
  EXPECT_EQ(gate.handle(call("/other"), peer({kLakeside})).reply.status, 404);
  auto post = gate.handle(call("/fhir/metadata", "POST"), peer({kLakeside}));
  EXPECT_EQ(post.reply.status, 405);
  EXPECT_EQ(counters.get("refused.request.no_route"), 1u);
  EXPECT_EQ(counters.get("refused.request.unsupported_type"), 1u);
  EXPECT_EQ(counters.get("refused.request.method_not_allowed"), 1u);
}

TEST_F(RequestGateTest, RefusedPurposeReachesTheAuditAsReceivedAndIsEncodedThere) {
  // The handler does not rewrite what the peer sent (it made TR\xC3\xA9AT "TR??AT"); the
  // audit's canonical form encodes it once, as docs/audit-format.md says.
  struct Case {
    std::vector<std::string> headers;
    std::string received, stored;
  };
  const std::vector<Case> cases{
      {{"TR\xc3\xa9" "AT"}, "TR\xc3\xa9" "AT", "TR%C3%A9AT"},
      {{"TR\x7f" "AT"}, "TR\x7f" "AT", "TR%7FAT"},
      {{"100%"}, "100%", "100%25"},
      {{std::string(31, 'T') + "\xc3\xa9"}, std::string(31, 'T') + "\xc3\xa9", std::string(31, 'T') + "%C3%A9"},
      {{"TREAT", "HPAYMT"}, "TREAT, HPAYMT", "TREAT, HPAYMT"},
  };
  for (const Case& c : cases) {
    HttpCall request = call("/fhir/Patient/p1");
    for (const auto& value : c.headers) request.headers.emplace_back("X-Purpose-Of-Use", value);
    auto out = gate.handle(request, peer({kLakeside}));
    EXPECT_EQ(out.reply.status, 400);
    EXPECT_EQ(out.reply.refusalReason, "invalid_purpose");
    const audit::AuditEvent event = requestEvent(request, "/fhir/Patient/p1", peer({kLakeside}), kLakeside, out.reply, 0);
    EXPECT_EQ(event.purpose, c.received);
    EXPECT_EQ(std::get<std::string>(audit::entryObject(event, "n", "c", 1).at("purpose")), c.stored);
  }
}

TEST(RequestId, EchoesPlainIdsOnly) {
  EXPECT_EQ(requestIdFor("abc-123_X.y:z"), "abc-123_X.y:z");
  for (const std::string& bad : {std::string(), std::string(65, 'a'), std::string("a b"), std::string("a\nb"),
                                std::string("<script>"), std::string("a\0b", 3)}) {
    const std::string id = requestIdFor(bad);
    EXPECT_NE(id, bad);
    EXPECT_EQ(id.size(), 32u);
    EXPECT_TRUE(isAcceptableRequestId(id));
  }
  EXPECT_NE(newRequestId(), newRequestId());
}

}  // namespace
}  // namespace hie::exchange

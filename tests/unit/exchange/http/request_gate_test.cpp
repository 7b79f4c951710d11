#include "exchange/http/request_gate.h"

#include <gtest/gtest.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "audit/canonical_form.h"
#include "exchange/http/audit_events.h"
#include "exchange/http/request_id.h"
#include "tests/support/memory_audit_reader.h"
#include "tests/support/memory_record_store.h"

namespace hie::exchange {
namespace {

class FixedDirectory : public auth::OrganizationDirectory {
 public:
  explicit FixedDirectory(std::vector<auth::Organization> orgs, std::vector<auth::Grant> grants = {}) {
    auto snap = std::make_shared<auth::RegistrySnapshot>();
    snap->organizations = std::move(orgs);
    for (auto& g : grants) snap->grantsByOrganization[g.organization].push_back(std::move(g));
    orgs_ = snap;
  }
  auth::OrganizationSnapshot snapshot() const override { return orgs_; }

 private:
  auth::OrganizationSnapshot orgs_;
};

const std::string kLakeside = "urn:oid:2.16.840.1.113883.3.7001";
const std::string kAuditor = "urn:oid:2.16.840.1.113883.3.7009";

class RequestGateTest : public ::testing::Test {
 protected:
  FixedDirectory directory{{{kLakeside, "Lakeside", auth::OrganizationStatus::kActive, {auth::Role::kMember}, {}, {}},
                            {"urn:oid:1.9", "Closed", auth::OrganizationStatus::kSuspended, {}, {}, {}}}};
  CapabilityStatementHandler metadata{NodeDescription{"node-a", "urn:oid:1.2", "0.1.0", {}}};
  Counters counters;
  hie::testing::MemoryRecordStore store;
  RecordApi records{store, RecordApiSettings{}};
  hie::testing::MemoryAuditReader auditReader;
  AuditApi auditApi{auditReader};
  RequestGate gate{directory, metadata, records, auditApi, nullptr, counters, ""};

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
  EXPECT_EQ(counters.refusals.value({"identity", "unknown_organization"}), 1u);
  EXPECT_EQ(counters.refusals.value({"identity", "suspended_organization"}), 1u);
  EXPECT_EQ(counters.refusals.value({"identity", "ambiguous_identity"}), 1u);
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
  EXPECT_EQ(counters.refusals.value({"request", "no_route"}), 1u);
  EXPECT_EQ(counters.refusals.value({"request", "unsupported_type"}), 1u);
  EXPECT_EQ(counters.refusals.value({"request", "method_not_allowed"}), 1u);
}

TEST_F(RequestGateTest, WithoutUdapItsPathsAre404ForAnyClientAndTheirBodiesAreNotRead) {
  // udap.enabled = false (no UdapApi): member, non-member and suspended alike get 404, as with UDAP on
  // they all reach the endpoints; a POST's body is left unread (never a 413).
  for (const char* path : {kUdapDiscoveryPath, kUdapRegisterPath, kUdapTokenPath}) {
    SCOPED_TRACE(path);
    for (const auto& who : {peer({kLakeside}), peer({"urn:oid:7.7"}), peer({"urn:oid:1.9"})}) {
      const BodyAllowance allowance = gate.bodyAllowance("POST", path, who);
      EXPECT_TRUE(allowance.unread);
      EXPECT_EQ(allowance.limit, 0u);
      HttpCall post = call(path, "POST");
      post.bodyUnread = true;
      for (const HttpCall& c : {call(path), post}) {
        auto out = gate.handle(c, who);
        EXPECT_EQ(out.reply.status, 404) << c.method;
        EXPECT_EQ(out.reply.refusalReason, "no_route");
        EXPECT_EQ(out.organization, who.sanUris[0] == kLakeside ? kLakeside : "");
      }
    }
  }
  EXPECT_EQ(counters.refusals.value({"identity", "unknown_organization"}), 0u);
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

// The Host header is checked once, in the gate: a hostile one never reaches a
// reply, which stays valid JSON and links to the address the call arrived on.
class HostileHostTest : public RequestGateTest {
 protected:
  HostileHostTest() {
    store.put("Observation", "obs-1", "p1");
    store.put("Observation", "obs-2", "p1");
  }
  FixedDirectory granted{{{kLakeside, "Lakeside", auth::OrganizationStatus::kActive, {auth::Role::kMember}, {}, {}},
                          {kAuditor, "Audit Office", auth::OrganizationStatus::kActive, {auth::Role::kAuditor}, {}, {}}},
                         {auth::Grant{1, kLakeside, {"Observation"}, {auth::Action::kSearch}, {"TREAT"}}}};
  RequestGate hostGate{granted, metadata, records, auditApi, nullptr, counters, ""};

  static HttpCall withHost(HttpCall c, const std::string& host) {
    c.headers.emplace_back("Host", host);
    c.localAddress = "127.0.0.1:8443";
    return c;
  }
  static Poco::JSON::Object::Ptr parse(const std::string& body) {
    Poco::JSON::Parser parser;
    return parser.parse(body).extract<Poco::JSON::Object::Ptr>();
  }
};

std::vector<std::string> hostileHosts() {
  return {"evil\"},{\"relation\":\"next\",\"url\":\"https://evil.example/\"}],\"x\":{\"",
          "a\\b\\",
          std::string("a\x01\x1b[31m\x7f\0b", 10),
          "\"\n\r\t",
          std::string(10240, 'a'),
          "node.example:8443\"",
          "[::1",
          "a:1:2",
          "user@node.example",
          "node.example/x",
          "node.example:99999",
          "caf\xc3\xa9.example",
          "bad\xff\xfe"};
}

TEST_F(HostileHostTest, SearchRepliesStayValidJsonAndLinkToTheLocalAddress) {
  for (const std::string& host : hostileHosts()) {
    HttpCall c = withHost(call("/fhir/Observation"), host);
    c.query = {{"patient", "p1"}, {"_count", "1"}};
    c.headers.emplace_back("X-Purpose-Of-Use", "TREAT");
    auto out = hostGate.handle(c, peer({kLakeside}));
    ASSERT_EQ(out.reply.status, 200) << out.reply.body;
    Poco::JSON::Object::Ptr bundle;
    ASSERT_NO_THROW(bundle = parse(out.reply.body)) << out.reply.body;
    std::vector<std::string> urls;
    auto links = bundle->getArray("link");
    ASSERT_EQ(links->size(), 2u) << out.reply.body;  // self and next, nothing injected
    for (std::size_t i = 0; i < links->size(); ++i) urls.push_back(links->getObject(i)->getValue<std::string>("url"));
    auto entries = bundle->getArray("entry");
    ASSERT_EQ(entries->size(), 1u);
    urls.push_back(entries->getObject(0)->getValue<std::string>("fullUrl"));
    EXPECT_EQ(bundle->size(), 5u) << out.reply.body;
    for (const auto& url : urls) {
      EXPECT_EQ(url.rfind("https://127.0.0.1:8443/fhir/Observation", 0), 0u) << url;
    }
  }
  // A plain Host is used as it is.
  HttpCall c = withHost(call("/fhir/Observation"), "node-a.example.org:8443");
  c.query = {{"patient", "p1"}};
  c.headers.emplace_back("X-Purpose-Of-Use", "TREAT");
  auto bundle = parse(hostGate.handle(c, peer({kLakeside})).reply.body);
  EXPECT_EQ(bundle->getArray("entry")->getObject(0)->getValue<std::string>("fullUrl"),
            "https://node-a.example.org:8443/fhir/Observation/obs-1");
}

TEST_F(HostileHostTest, ErrorRepliesEscapeEveryByte) {
  // The listener refuses non-UTF-8 before the gate; the reply must still be JSON if such text ever gets here.
  for (const std::string& host : hostileHosts()) {
    const std::string name = "x\"\\\x01\xff" + host.substr(0, 40);
    HttpCall c = withHost(call("/audit/AuditEvent"), host);
    c.query = {{name, "1"}, {name, "2"}};
    auto out = hostGate.handle(c, peer({kAuditor}));
    ASSERT_EQ(out.reply.status, 400) << out.reply.body;
    Poco::JSON::Object::Ptr outcome;
    ASSERT_NO_THROW(outcome = parse(out.reply.body)) << out.reply.body;
    EXPECT_EQ(outcome->getValue<std::string>("resourceType"), "OperationOutcome");
    EXPECT_EQ(outcome->size(), 2u);
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

#include "exchange/http/signature_stores.h"

namespace hie::exchange {
namespace {

class NoNonces : public NonceRegistry {
 public:
  Result<bool> remember(const std::string&, const std::string&, std::int64_t, std::int64_t) override { return true; }
};
class NoArchive : public CertificateArchive {
 public:
  Result<void> keep(const std::string&, const std::string&) override { return {}; }
};

TEST_F(RequestGateTest, AWriteWhoseBodyWasLeftUnreadIsRefusedForTheRoleBeforeItsSignature) {
  // Signatures required: an unsigned request would be 401. A member's write body is not read
  // (bodyAllowance), so the gate answers the role's 403 first, never a digest refusal.
  auth::SignatureSettings settings;
  settings.requests = auth::SignaturePolicy::kRequire;
  NoNonces nonces;
  NoArchive archive;
  RequestSignatureCheck signatures(settings, nonces, archive, counters);
  struct NullWriter : RecordWriter {
    Result<WriteOutcome> write(const WriteRequest&, const std::string&) override {
      ADD_FAILURE() << "a refused write reached the store";
      return WriteOutcome{};
    }
  } writer;
  RecordWriteApi writes(writer, records.settings());
  RequestGate signedGate{directory, metadata, records, auditApi, nullptr, counters, "", nullptr, &signatures, &writes};
  EXPECT_TRUE(signedGate.bodyAllowance("PUT", "/fhir/Patient/p1", peer({kLakeside})).unread);
  EXPECT_EQ(signedGate.bodyAllowance("PUT", "/fhir/Patient/p1", peer({kLakeside})).limit, 0u);
  HttpCall put = call("/fhir/Patient/p1", "PUT");
  put.bodyUnread = true;
  put.headers.emplace_back("Content-Digest", "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:");
  const GateOutcome out = signedGate.handle(put, peer({kLakeside}));
  EXPECT_EQ(out.reply.status, 403) << out.reply.body;
  EXPECT_EQ(out.reply.refusalReason, "role_not_allowed");
  EXPECT_EQ(out.signature.check, "") << "the signature was not looked at";
  // The same request with its body read is checked for its signature first, as every request is.
  put.bodyUnread = false;
  EXPECT_EQ(signedGate.handle(put, peer({kLakeside})).reply.status, 401);
}

}  // namespace
}  // namespace hie::exchange

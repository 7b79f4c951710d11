#include "exchange/http/bearer_check.h"

#include <gtest/gtest.h>

#include "audit/canonical_form.h"
#include "exchange/fhir/fhir_request.h"
#include "exchange/http/audit_events.h"
#include "exchange/http/request_gate.h"
#include "tests/support/memory_audit_reader.h"
#include "tests/support/memory_record_store.h"

namespace hie::exchange {
namespace {

const std::string kLakeside = "urn:oid:2.16.840.1.113883.3.7001";
const std::string kRiverside = "urn:oid:2.16.840.1.113883.3.7002";
const std::string kClosed = "urn:oid:1.9";
const std::string kCertHex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const std::string kOtherCertHex = std::string(64, 'f');
constexpr std::int64_t kNow = 1800000000;

std::string header(const HttpReply& reply, const std::string& name) {
  for (const auto& [n, v] : reply.headers) {
    if (n == name) return v;
  }
  return "";
}

// Tokens are names here: the fake verifier knows "good", "expired", "foreign", "riverside",
// "cancelled", "unbound", "closed", "etreat".
class FakeTokens {
 public:
  tl::expected<auth::udap::AccessTokenClaims, auth::udap::JwsRefusal> operator()(const std::string& token,
                                                                                  std::int64_t now) const {
    ++calls;
    lastNow = now;
    auth::udap::AccessTokenClaims c;
    c.issuer = "https://node-a.example/fhir";
    c.clientId = "client-1";
    c.organizationId = kLakeside;
    c.purposeOfUse = "TREAT";
    c.scope = "system/*.read";
    c.certificateThumbprint = certificateThumbprint(peerWith(kCertHex));
    c.issuedAt = now - 10;
    c.expiresAt = now + 290;
    if (token == "expired") {
      // As verifyAccessToken: this node's own token, refused on its claims, names its client.
      return tl::make_unexpected(auth::udap::JwsRefusal{"token_expired", "The access token has expired.", "client-1"});
    }
    if (token == "foreign") {
      return tl::make_unexpected(auth::udap::JwsRefusal{"token_signature", "The access token was not signed by this node."});
    }
    if (token == "riverside") {
      c.clientId = "client-2";
      c.organizationId = kRiverside;
    }
    if (token == "cancelled") c.clientId = "client-cancelled";
    if (token == "unknown-client") c.clientId = "client-unknown";
    if (token == "unbound") c.certificateThumbprint.clear();
    if (token == "etreat") c.purposeOfUse = "ETREAT";
    if (token == "observations-only") c.scope = "system/Observation.read system/Condition.rs";
    if (token == "closed") {
      c.clientId = "client-closed";
      c.organizationId = kClosed;
    }
    return c;
  }
  static auth::PeerIdentity peerWith(const std::string& certHex, const std::string& org = kLakeside) {
    auth::PeerIdentity p;
    p.sanUris = {org};
    p.certSha256 = certHex;
    return p;
  }
  mutable int calls = 0;
  mutable std::int64_t lastNow = 0;
};

class FixedDirectory : public auth::OrganizationDirectory {
 public:
  explicit FixedDirectory(std::shared_ptr<auth::RegistrySnapshot> snap) : snap_(std::move(snap)) {}
  auth::OrganizationSnapshot snapshot() const override { return snap_; }

 private:
  auth::OrganizationSnapshot snap_;
};

std::shared_ptr<auth::RegistrySnapshot> registry() {
  auto snap = std::make_shared<auth::RegistrySnapshot>();
  snap->organizations = {{kLakeside, "Lakeside", auth::OrganizationStatus::kActive, {auth::Role::kMember}, {}, {}},
                         {kRiverside, "Riverside", auth::OrganizationStatus::kActive, {auth::Role::kMember}, {}, {}},
                         {kClosed, "Closed", auth::OrganizationStatus::kSuspended, {auth::Role::kMember}, {}, {}}};
  snap->grantsByOrganization[kLakeside].push_back(
      auth::Grant{1, kLakeside, {"Patient"}, {auth::Action::kRead, auth::Action::kSearch}, {"TREAT"}});
  snap->udapClients["client-1"] = auth::UdapClientEntry{"client-1", kLakeside, true};
  snap->udapClients["client-2"] = auth::UdapClientEntry{"client-2", kRiverside, true};
  snap->udapClients["client-cancelled"] = auth::UdapClientEntry{"client-cancelled", kLakeside, false};
  snap->udapClients["client-closed"] = auth::UdapClientEntry{"client-closed", kClosed, true};
  return snap;
}

TEST(CertificateThumbprint, IsBase64UrlOfTheDerHashWithoutPadding) {
  // 0x00 0x11 ... as base64url: the x5t#S256 form (RFC 8705 3.1), 43 characters.
  const std::string t = certificateThumbprint(FakeTokens::peerWith(kCertHex));
  EXPECT_EQ(t, "ABEiM0RVZneImaq7zN3u_wARIjNEVWZ3iJmqu8zd7v8");
  EXPECT_EQ(t.size(), 43u);
  EXPECT_EQ(certificateThumbprint(FakeTokens::peerWith("abc")), "");
  EXPECT_EQ(certificateThumbprint(FakeTokens::peerWith(std::string(64, 'g'))), "");
}

class BearerGateTest : public ::testing::Test {
 protected:
  std::shared_ptr<auth::RegistrySnapshot> snap = registry();
  FixedDirectory directory{snap};
  CapabilityStatementHandler metadata{NodeDescription{"node-a", "urn:oid:1.2", "0.1.0", {}}};
  Counters counters;
  hie::testing::MemoryRecordStore store;
  RecordApi records{store, RecordApiSettings{}};
  hie::testing::MemoryAuditReader auditReader;
  AuditApi auditApi{auditReader};
  FakeTokens tokens;
  BearerCheck bearer{[this](const std::string& t, std::int64_t now) { return tokens(t, now); }, counters,
                     [] { return kNow; }};
  RequestGate gate{directory, metadata, records, auditApi, nullptr, counters, "https://node-a.example"};

  void SetUp() override {
    store.put("Patient", "p1", "p1", {{"urn:mrn", "123"}});
    gate.useBearerCheck(&bearer);
  }

  static HttpCall call(const std::string& path, const std::string& method = "GET") {
    HttpCall c;
    c.method = method;
    c.path = path;
    c.target = path;
    c.requestId = "r1";
    return c;
  }
  static HttpCall withToken(HttpCall c, const std::string& token) {
    c.headers.emplace_back("Authorization", "Bearer " + token);
    return c;
  }
  GateOutcome handle(const HttpCall& c, const std::string& certHex = kCertHex, const std::string& org = kLakeside) {
    return gate.handle(c, FakeTokens::peerWith(certHex, org));
  }
};

TEST_F(BearerGateTest, NoAuthorizationHeaderIsMutualTlsAsBefore) {
  HttpCall c = call("/fhir/Patient/p1");
  c.headers.emplace_back("X-Purpose-Of-Use", "TREAT");
  auto out = handle(c);
  EXPECT_EQ(out.reply.status, 200);
  EXPECT_EQ(out.tokenClientId, "");
  EXPECT_EQ(out.authorizedPurpose, "");
  EXPECT_EQ(tokens.calls, 0);
  EXPECT_EQ(counters.bearerChecks.value({"none"}), 1u);
  const audit::AuditEvent e = requestEvent(c, "/fhir/Patient/p1", FakeTokens::peerWith(kCertHex), kLakeside, out.reply, 0);
  EXPECT_EQ(e.authentication, "mtls");
  EXPECT_EQ(e.clientId, "");
  EXPECT_EQ(e.purpose, "TREAT");
}

TEST_F(BearerGateTest, ValidTokenReadsWithItsPurposeAndIsAudited) {
  HttpCall c = withToken(call("/fhir/Patient/p1"), "good");  // no X-Purpose-Of-Use: the token's applies
  auto out = handle(c);
  EXPECT_EQ(out.reply.status, 200) << out.reply.body;
  EXPECT_EQ(out.tokenClientId, "client-1");
  EXPECT_EQ(out.authorizedPurpose, "TREAT");
  EXPECT_EQ(tokens.lastNow, kNow);
  EXPECT_EQ(counters.bearerChecks.value({"accepted"}), 1u);
  // The listener copies both into its call; the entry then says how the caller authenticated.
  c.authorizedPurpose = out.authorizedPurpose;
  c.tokenClientId = out.tokenClientId;
  EXPECT_EQ(purposeOfUseHeader(c).value, "TREAT");
  EXPECT_TRUE(purposeOfUseHeader(c).valid());
  const audit::AuditEvent e = requestEvent(c, "/fhir/Patient/p1", FakeTokens::peerWith(kCertHex), kLakeside, out.reply, 0);
  EXPECT_EQ(e.authentication, "mtls+udap");
  EXPECT_EQ(e.clientId, "client-1");
  EXPECT_EQ(e.purpose, "TREAT");
  // An equal header is fine too; a search is a read under /fhir/ as well; HEAD as GET.
  HttpCall equal = withToken(call("/fhir/Patient"), "good");
  equal.query = {{"identifier", "urn:mrn|123"}};
  equal.headers.emplace_back("X-Purpose-Of-Use", "TREAT");
  EXPECT_EQ(handle(equal).reply.status, 200);
  EXPECT_EQ(handle(withToken(call("/fhir/Patient/p1", "HEAD"), "good")).reply.status, 200);
  // The scheme is case-insensitive (RFC 7235 2.1).
  HttpCall lower = call("/fhir/Patient/p1");
  lower.headers.emplace_back("authorization", "bearer good");
  EXPECT_EQ(handle(lower).reply.status, 200);
}

TEST_F(BearerGateTest, GrantsStillDecideWithTheTokensPurpose) {
  // The token says ETREAT: the grant covers TREAT only, but ETREAT is break-glass (policy unchanged).
  auto out = handle(withToken(call("/fhir/Patient/p1"), "etreat"));
  EXPECT_EQ(out.authorizedPurpose, "ETREAT");
  EXPECT_TRUE(out.reply.access.breakGlass || out.reply.status == 403) << out.reply.status;
}

TEST_F(BearerGateTest, RefusedTokensAre401WithWwwAuthenticate) {
  struct Case {
    std::string token, reason, clientId;  // clientId: the token's once its signature verified
  };
  for (const Case& c : std::vector<Case>{{"expired", "token_expired", "client-1"},
                                         {"foreign", "token_signature", ""},
                                         {"cancelled", "token_client_cancelled", "client-cancelled"},
                                         {"unknown-client", "token_client_cancelled", "client-unknown"},
                                         {"unbound", "token_binding_mismatch", "client-1"}}) {
    SCOPED_TRACE(c.token);
    auto out = handle(withToken(call("/fhir/Patient/p1"), c.token));
    EXPECT_EQ(out.reply.status, 401);
    EXPECT_EQ(out.reply.refusalReason, c.reason);
    EXPECT_EQ(out.tokenClientId, c.clientId);
    EXPECT_EQ(out.authorizedPurpose, "");
    EXPECT_NE(out.reply.body.find("\"resourceType\":\"OperationOutcome\""), std::string::npos);
    EXPECT_NE(out.reply.body.find("\"code\":\"security\""), std::string::npos);
    EXPECT_EQ(header(out.reply, "WWW-Authenticate").rfind("Bearer realm=\"hie-node\", error=\"invalid_token\", error_description=\"", 0), 0u)
        << header(out.reply, "WWW-Authenticate");
    EXPECT_EQ(counters.refusals.value({"token", c.reason}) > 0, true);
  }
  EXPECT_EQ(store.calls, 0);  // nothing was read
}

TEST_F(BearerGateTest, ATokenRefusedAfterItsSignatureIsAuditedAsMtlsPlusUdap) {
  // Every refusal of a token this node signed: the entry names the token's client and says how the
  // caller authenticated; a token whose signature failed proves no client (plain mtls).
  struct Case {
    std::string token, path, org, certHex, purpose, reason, authentication, clientId;
  };
  for (const Case& c : std::vector<Case>{
           {"expired", "/fhir/Patient/p1", kLakeside, kCertHex, "", "token_expired", "mtls+udap", "client-1"},
           {"riverside", "/fhir/Patient/p1", kLakeside, kCertHex, "", "token_organization_mismatch", "mtls+udap",
            "client-2"},
           {"good", "/fhir/Patient/p1", kLakeside, kOtherCertHex, "", "token_binding_mismatch", "mtls+udap",
            "client-1"},
           {"cancelled", "/fhir/Patient/p1", kLakeside, kCertHex, "", "token_client_cancelled", "mtls+udap",
            "client-cancelled"},
           {"good", "/fhir/Patient/p1", kLakeside, kCertHex, "HPAYMT", "purpose_mismatch", "mtls+udap", "client-1"},
           {"observations-only", "/fhir/Patient/p1", kLakeside, kCertHex, "", "insufficient_scope", "mtls+udap",
            "client-1"},
           {"foreign", "/fhir/Patient/p1", kLakeside, kCertHex, "", "token_signature", "mtls", ""}}) {
    SCOPED_TRACE(c.reason);
    HttpCall request = withToken(call(c.path), c.token);
    if (!c.purpose.empty()) request.headers.emplace_back("X-Purpose-Of-Use", c.purpose);
    const auth::PeerIdentity peer = FakeTokens::peerWith(c.certHex, c.org);
    auto out = gate.handle(request, peer);
    EXPECT_EQ(out.reply.refusalReason, c.reason);
    // What the listener does with the gate's outcome (https_server.cpp), then the audit entry.
    request.authorizedPurpose = out.authorizedPurpose;
    request.tokenClientId = out.tokenClientId;
    const audit::AuditEvent e = requestEvent(request, c.path, peer, c.org, out.reply, 0);
    EXPECT_EQ(e.outcome, "denied");
    EXPECT_EQ(e.outcomeReason, c.reason);
    EXPECT_EQ(e.authentication, c.authentication);
    EXPECT_EQ(e.clientId, c.clientId);
  }
  EXPECT_EQ(store.calls, 0);
}

TEST_F(BearerGateTest, AClientUnknownToTheSnapshotIsLookedUpOnceMore) {
  // Registered since the registry's last poll: the refreshed snapshot knows it.
  int refreshes = 0;
  auto newer = registry();
  newer->udapClients["client-unknown"] = auth::UdapClientEntry{"client-unknown", kLakeside, true};
  bearer.useRefresh([&] {
    ++refreshes;
    return std::shared_ptr<const auth::RegistrySnapshot>(newer);
  });
  auto out = handle(withToken(call("/fhir/Patient/p1"), "unknown-client"));
  EXPECT_EQ(out.reply.status, 200);
  EXPECT_EQ(out.tokenClientId, "client-unknown");
  EXPECT_EQ(refreshes, 1);
  // Known clients never cause a refresh; a client still unknown (or cancelled) after it is refused.
  EXPECT_EQ(handle(withToken(call("/fhir/Patient/p1"), "good")).reply.status, 200);
  EXPECT_EQ(refreshes, 1);
  newer->udapClients["client-unknown"].active = false;
  auto cancelled = handle(withToken(call("/fhir/Patient/p1"), "unknown-client"));
  EXPECT_EQ(cancelled.reply.status, 401);
  EXPECT_EQ(cancelled.reply.refusalReason, "token_client_cancelled");
  EXPECT_EQ(refreshes, 2);
}

TEST_F(BearerGateTest, TokenOverAnotherCertificateOfTheSameOrganizationIs401) {
  auto out = handle(withToken(call("/fhir/Patient/p1"), "good"), kOtherCertHex);
  EXPECT_EQ(out.reply.status, 401);
  EXPECT_EQ(out.reply.refusalReason, "token_binding_mismatch");
  EXPECT_EQ(store.calls, 0);
}

TEST_F(BearerGateTest, TokenOfAnotherOrganizationIs403) {
  // Riverside's token over Lakeside's connection (the binding matches: organization decides first).
  auto out = handle(withToken(call("/fhir/Patient/p1"), "riverside"));
  EXPECT_EQ(out.reply.status, 403);
  EXPECT_EQ(out.reply.refusalReason, "token_organization_mismatch");
  // A client registered for another organization than the token names.
  snap->udapClients["client-1"].organization = kRiverside;
  auto moved = handle(withToken(call("/fhir/Patient/p1"), "good"));
  EXPECT_EQ(moved.reply.status, 403);
  EXPECT_EQ(moved.reply.refusalReason, "token_organization_mismatch");
  EXPECT_EQ(store.calls, 0);
}

TEST_F(BearerGateTest, SuspendedOrganizationIsRefusedBeforeItsToken) {
  auto out = handle(withToken(call("/fhir/Patient/p1"), "closed"), kCertHex, kClosed);
  EXPECT_EQ(out.reply.status, 403);
  EXPECT_EQ(out.reply.refusalReason, "suspended_organization");
  EXPECT_EQ(tokens.calls, 0);
}

TEST_F(BearerGateTest, PurposeHeaderThatDiffersIs403) {
  HttpCall c = withToken(call("/fhir/Patient/p1"), "good");
  c.headers.emplace_back("X-Purpose-Of-Use", "HPAYMT");
  auto out = handle(c);
  EXPECT_EQ(out.reply.status, 403);
  EXPECT_EQ(out.reply.refusalReason, "purpose_mismatch");
  HttpCall twice = withToken(call("/fhir/Patient/p1"), "good");
  twice.headers.emplace_back("X-Purpose-Of-Use", "TREAT");
  twice.headers.emplace_back("X-Purpose-Of-Use", "TREAT");
  EXPECT_EQ(handle(twice).reply.refusalReason, "purpose_mismatch");
  EXPECT_EQ(store.calls, 0);
}

TEST_F(BearerGateTest, ANodeThatRequiresTokensRefusesReadsWithoutOne) {
  bearer.requireToken(true);
  HttpCall c = call("/fhir/Patient/p1");
  c.headers.emplace_back("X-Purpose-Of-Use", "TREAT");
  auto out = handle(c);
  EXPECT_EQ(out.reply.status, 401);
  EXPECT_EQ(out.reply.refusalReason, "token_required");
  bool challenged = false;
  for (const auto& [name, value] : out.reply.headers) challenged = challenged || name == "WWW-Authenticate";
  EXPECT_TRUE(challenged);
  EXPECT_EQ(store.calls, 0);
  // The CapabilityStatement needs none; with a token the read goes through.
  EXPECT_EQ(handle(call("/fhir/metadata")).reply.status, 200);
  EXPECT_EQ(handle(withToken(call("/fhir/Patient/p1"), "good")).reply.status, 200);
}

TEST_F(BearerGateTest, ScopesNarrowWhatTheGrantsAllow) {
  // system/Observation.read + system/Condition.rs: no Patient reads, even with a grant for Patient.
  HttpCall c = withToken(call("/fhir/Patient/p1"), "observations-only");
  auto out = handle(c);
  EXPECT_EQ(out.reply.status, 403);
  EXPECT_EQ(out.reply.refusalReason, "insufficient_scope");
  bool challenged = false;
  for (const auto& [name, value] : out.reply.headers) {
    challenged = challenged || (name == "WWW-Authenticate" && value.find("error=\"insufficient_scope\"") != std::string::npos);
  }
  EXPECT_TRUE(challenged);
  EXPECT_EQ(store.calls, 0);
  // A path segment is no header text: CR LF and quotes never reach WWW-Authenticate.
  auto hostile = handle(withToken(call("/fhir/X\r\nSet-Cookie: a=\"b"), "observations-only"));
  EXPECT_EQ(hostile.reply.refusalReason, "insufficient_scope");
  for (const auto& [name, value] : hostile.reply.headers) {
    EXPECT_EQ(value.find_first_of("\r\n"), std::string::npos) << name;
    EXPECT_EQ(value.find("Set-Cookie"), std::string::npos) << name;
  }
  // The CapabilityStatement names no record: any token reads it.
  EXPECT_EQ(handle(withToken(call("/fhir/metadata"), "observations-only")).reply.status, 200);
  // A type the scope covers passes the gate (what the grants then say is the handler's).
  EXPECT_NE(handle(withToken(call("/fhir/Observation/o1"), "observations-only")).reply.refusalReason, "insufficient_scope");
  EXPECT_NE(handle(withToken(call("/fhir/Condition/c1"), "observations-only")).reply.refusalReason, "insufficient_scope");
}

TEST_F(BearerGateTest, TheGrantedScopeCountsOnlyAsFarAsUdapScopesAllowsItNow) {
  // Issued with system/*.read; udap.scopes now allows Observation alone: no Patient reads with it.
  EXPECT_EQ(handle(withToken(call("/fhir/Patient/p1"), "good")).reply.status, 200);
  bearer.useScopes({"system/Observation.read"});
  auto out = handle(withToken(call("/fhir/Patient/p1"), "good"));
  EXPECT_EQ(out.reply.status, 403);
  EXPECT_EQ(out.reply.refusalReason, "insufficient_scope");
  EXPECT_NE(handle(withToken(call("/fhir/Observation/o1"), "good")).reply.refusalReason, "insufficient_scope");
  EXPECT_EQ(handle(withToken(call("/fhir/metadata"), "good")).reply.status, 200);
  // The wildcard in the configuration covers what the token names, and nothing the token does not.
  bearer.useScopes({"system/*.rs"});
  EXPECT_EQ(handle(withToken(call("/fhir/Patient/p1"), "good")).reply.status, 200);
  EXPECT_EQ(handle(withToken(call("/fhir/Patient/p1"), "observations-only")).reply.refusalReason, "insufficient_scope");
  bearer.useScopes({});
  EXPECT_EQ(handle(withToken(call("/fhir/Patient/p1"), "good")).reply.refusalReason, "insufficient_scope");
}

TEST_F(BearerGateTest, BearerOnlyOnReadsUnderFhir) {
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/exchange/Patient"}, {"GET", "/audit/entries"}, {"POST", "/witness/add-checkpoint"},
           {"PUT", "/fhir/Patient/p1"}, {"POST", "/fhir/Patient"}, {"DELETE", "/fhir/Patient/p1"}, {"GET", "/other"}}) {
    SCOPED_TRACE(method + " " + path);
    auto out = handle(withToken(call(path, method), "good"));
    EXPECT_EQ(out.reply.status, 400);
    EXPECT_EQ(out.reply.refusalReason, "bearer_not_accepted");
  }
  EXPECT_EQ(tokens.calls, 0);
}

TEST_F(BearerGateTest, MalformedAuthorizationIs400InvalidRequest) {
  HttpCall basic = call("/fhir/Patient/p1");
  basic.headers.emplace_back("Authorization", "Basic dXNlcjpwYXNz");
  HttpCall two = withToken(withToken(call("/fhir/Patient/p1"), "good"), "good");
  HttpCall empty = call("/fhir/Patient/p1");
  empty.headers.emplace_back("Authorization", "Bearer ");
  HttpCall junk = call("/fhir/Patient/p1");
  junk.headers.emplace_back("Authorization", "Bearer a b");
  for (const HttpCall* c : {&basic, &two, &empty, &junk}) {
    auto out = handle(*c);
    EXPECT_EQ(out.reply.status, 400);
    EXPECT_EQ(out.reply.refusalReason, "invalid_request");
    EXPECT_NE(header(out.reply, "WWW-Authenticate").find("error=\"invalid_request\""), std::string::npos);
  }
  EXPECT_EQ(tokens.calls, 0);
  EXPECT_EQ(counters.refusals.value({"token", "invalid_request"}), 4u);
}

TEST_F(BearerGateTest, WithoutBearerCheckAnyAuthorizationIsRefused) {
  RequestGate plain{directory, metadata, records, auditApi, nullptr, counters, ""};
  auto out = plain.handle(withToken(call("/fhir/Patient/p1"), "good"), FakeTokens::peerWith(kCertHex));
  EXPECT_EQ(out.reply.status, 400);
  EXPECT_EQ(out.reply.refusalReason, "invalid_request");
  EXPECT_EQ(tokens.calls, 0);
}

}  // namespace
}  // namespace hie::exchange

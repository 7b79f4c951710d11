// UdapApi with fakes: the strict body parsers, scopes, and the answers of the three endpoints
// (status, OAuth error, reason) without a database or sockets. The end-to-end refusals with a
// real node and an independent client are in tests/integration/udap_test.cpp.
#include <gtest/gtest.h>

#include <map>

#include "auth/identity/certificate_identity.h"
#include "auth/registry/organization_registry.h"
#include "auth/tls/client_standing.h"
#include "auth/tls/tls_material_store.h"
#include "auth/udap/access_token.h"
#include "auth/udap/chain_verifier.h"
#include "auth/udap/jws_crypto.h"
#include "common/hex.h"
#include "exchange/handlers/udap_api.h"
#include "exchange/http/form_body.h"
#include "tests/support/test_pki.h"

namespace hie::exchange {
namespace {

using testing::CertSpec;
using testing::Credential;
using testing::TempDir;
using testing::TestPki;

const std::string kBase = "https://node-a.example.org";
const std::string kClinic = "urn:oid:2.16.840.1.113883.3.7001";
const std::string kOther = "urn:oid:2.16.840.1.113883.3.7002";

TEST(FormBody, ParsesAndRefusesDuplicatesAndBadEscapes) {
  auto ok = parseFormBody("a=1&b=x+y%2Fz&c=");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->at("a"), "1");
  EXPECT_EQ(ok->at("b"), "x y/z");
  EXPECT_EQ(ok->at("c"), "");
  EXPECT_EQ(parseFormBody("a=1&a=2").error(), "form_duplicate_parameter");
  EXPECT_EQ(parseFormBody("a=1&&b=2").error(), "form_malformed");
  EXPECT_EQ(parseFormBody("a").error(), "form_malformed");
  EXPECT_EQ(parseFormBody("=1").error(), "form_malformed");
  EXPECT_EQ(parseFormBody("a=%4").error(), "form_malformed");
  EXPECT_EQ(parseFormBody("a=%zz").error(), "form_malformed");
  EXPECT_EQ(parseFormBody("a=%ff").error(), "form_malformed");  // not UTF-8
  EXPECT_TRUE(parseFormBody("")->empty());
}

TEST(JsonObject, UniqueKeysAtEveryLevel) {
  auto ok = parseJsonObject(R"( {"a":"x\u00e9","b":[1,"s"],"c":{"d":null},"e":["p","q"]} )");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->at("a").text, "x\xc3\xa9");
  EXPECT_FALSE(ok->at("b").allStrings);
  EXPECT_EQ(ok->at("e").strings, (std::vector<std::string>{"p", "q"}));
  EXPECT_EQ(parseJsonObject(R"({"a":1,"a":2})").error(), "json_duplicate_key");
  EXPECT_EQ(parseJsonObject(R"({"a":{"b":1,"b":2}})").error(), "json_duplicate_key");
  EXPECT_EQ(parseJsonObject(R"({"a":1} x)").error(), "json_malformed");
  EXPECT_EQ(parseJsonObject(R"({"a":01})").error(), "json_malformed");
  EXPECT_EQ(parseJsonObject(R"([1])").error(), "json_not_object");
  EXPECT_EQ(parseJsonObject(R"({"a":"\ud800"})").error(), "json_malformed");
}

TEST(GrantedScope, WildcardCoversTypeScopesOnly) {
  const std::vector<std::string> allowed{"system/*.read"};
  EXPECT_EQ(grantedScope("system/*.read", allowed), "system/*.read");
  EXPECT_EQ(grantedScope("system/Patient.read system/Patient.rs openid", allowed), "system/Patient.read system/Patient.rs");
  EXPECT_EQ(grantedScope("system/*.write user/*.read", allowed), "");
  EXPECT_EQ(grantedScope("system/Patient.read system/Patient.read", allowed), "system/Patient.read");
}

class PassingChains : public auth::ChainVerifier {
 public:
  std::optional<auth::StandingRefusal> verifyChain(X509*, STACK_OF(X509) *, std::int64_t) const override {
    if (refuse.empty()) return std::nullopt;
    return auth::StandingRefusal{refuse, ""};
  }
  std::string refuse;
};

class MemoryClients : public UdapClientStore {
 public:
  Result<UdapRegistered> registerClient(const UdapRegistration& r) override {
    for (auto& [id, c] : clients) {
      if (c.active && c.sanUri == r.sanUri) {
        c.scope = r.scope;
        return UdapRegistered{id, false};
      }
    }
    const std::string id = "client" + std::to_string(clients.size() + 1) + "xxxxxxxxxxxx";
    clients[id] = UdapClientRecord{id, r.organization, r.sanUri, true, r.clientName, r.contacts, r.scope,
                                   r.softwareStatement, r.certSha256, "", ""};
    return UdapRegistered{id, true};
  }
  Result<std::optional<std::string>> cancelBySan(const std::string& san) override {
    for (auto& [id, c] : clients) {
      if (c.active && c.sanUri == san) {
        c.active = false;
        return std::optional<std::string>(id);
      }
    }
    return std::optional<std::string>();
  }
  Result<bool> cancelById(const std::string& id) override {
    auto it = clients.find(id);
    if (it == clients.end() || !it->second.active) return false;
    it->second.active = false;
    return true;
  }
  Result<std::optional<UdapClientRecord>> find(const std::string& id) const override {
    ++finds;
    auto it = clients.find(id);
    if (it == clients.end()) return std::optional<UdapClientRecord>();
    return std::optional<UdapClientRecord>(it->second);
  }
  Result<std::vector<UdapClientRecord>> list() const override { return std::vector<UdapClientRecord>(); }
  std::map<std::string, UdapClientRecord> clients;
  mutable int finds = 0;
};

class MemoryJti : public JtiRegistry {
 public:
  Result<bool> remember(const std::string& iss, const std::string& jti, std::int64_t until, std::int64_t) override {
    lastUntil = until;
    return seen.insert(iss + "|" + jti).second;
  }
  std::set<std::string> seen;
  std::int64_t lastUntil = 0;
};

auth::Organization org(const std::string& id) {
  auth::Organization o;
  o.identifier = id;
  o.name = id;
  return o;
}

class UdapApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CertSpec node;
    node.commonName = "node-a";
    node.sanUris = {kBase + "/fhir"};
    node.extendedKeyUsage = {"serverAuth", "clientAuth"};
    node.keyType = testing::KeyType::kRsa2048;
    const Credential nodeCert = pki.leaf(node);
    auth::TlsFiles files;
    files.certificate = testing::writeFile(dir.path(), "node.crt", pki.chainPem(nodeCert));
    files.privateKey = testing::writeFile(dir.path(), "node.key", nodeCert.keyPem());
    files.trustBundle = testing::writeFile(dir.path(), "ca.pem", pki.root.certPem());
    auto opened = auth::TlsMaterialStore::open(files);
    ASSERT_TRUE(opened) << opened.error().internal;
    tls = std::move(*opened);
    CertSpec spec;
    spec.extendedKeyUsage = {"clientAuth"};
    spec.sanUris = {kClinic};
    clinic = pki.leaf(spec);
    spec.sanUris = {kOther};
    other = pki.leaf(spec);
    auth::RegistrySnapshot snap;
    snap.organizations = {org(kClinic), org(kOther)};
    directory = std::make_unique<auth::FixedOrganizationDirectory>(snap);
    UdapSettings settings;
    settings.fhirBaseUrl = kBase + "/fhir";
    settings.tokenEndpoint = kBase + "/oauth/token";
    settings.registrationEndpoint = kBase + "/oauth/register";
    api = std::make_unique<UdapApi>(settings, chains, *directory, *tls, clients, jtis, counters, [this] { return now; });
  }

  auth::PeerIdentity identityOf(const Credential& c) { return *auth::extractIdentity(c.cert()); }

  std::string sign(const Credential& c, const std::string& claims) {
    auto jws = auth::udap::signJws(c.key(), {auth::udap::certificateDer(c.cert())}, "", claims);
    EXPECT_TRUE(jws);
    return *jws;
  }
  std::string statement(const std::string& grantTypes = R"(["client_credentials"])") {
    return sign(clinic, R"({"iss":")" + kClinic + R"(","sub":")" + kClinic + R"(","aud":")" + kBase +
                            R"(/oauth/register","iat":)" + std::to_string(now) + R"(,"exp":)" + std::to_string(now + 300) +
                            R"(,"jti":")" + randomHex(8) + R"(","client_name":"EHR","contacts":["mailto:it@example.org"],)"
                            R"("grant_types":)" + grantTypes + R"(,"token_endpoint_auth_method":"private_key_jwt","scope":"system/*.read"})");
  }
  std::string assertion(const std::string& clientId, const std::string& orgId = kClinic) {
    return sign(clinic, R"({"iss":")" + clientId + R"(","sub":")" + clientId + R"(","aud":")" + kBase +
                            R"(/oauth/token","iat":)" + std::to_string(now) + R"(,"exp":)" + std::to_string(now + 300) +
                            R"(,"jti":")" + randomHex(8) + R"(","extensions":{"hl7-b2b":{"version":"1","organization_id":")" +
                            orgId + R"(","purpose_of_use":["urn:oid:2.16.840.1.113883.5.8#TREAT"]}}})");
  }
  HttpReply post(const std::string& path, const std::string& type, const std::string& body,
                 const Credential* tlsAs = nullptr, HeaderList extra = {}) {
    HttpCall call;
    call.method = "POST";
    call.path = path;
    call.headers = {{"Content-Type", type}};
    for (auto& h : extra) call.headers.push_back(h);
    call.body = body;
    return api->handle(call, identityOf(tlsAs != nullptr ? *tlsAs : clinic));
  }
  HttpReply registerBody(const std::string& jws) {
    return post(kUdapRegisterPath, "application/json", R"({"software_statement":")" + jws + R"(","udap":"1"})");
  }
  HttpReply tokenFor(const std::string& clientId, const Credential* tlsAs = nullptr, const std::string& orgId = kClinic) {
    return post(kUdapTokenPath, "application/x-www-form-urlencoded",
                "grant_type=client_credentials&scope=system%2F*.read&udap=1&client_assertion_type=urn%3Aietf%3Aparams%3A"
                "oauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=" + assertion(clientId, orgId),
                tlsAs);
  }

  TestPki pki = TestPki::create();
  TempDir dir;
  std::unique_ptr<auth::TlsMaterialStore> tls;
  Credential clinic, other;
  std::unique_ptr<auth::FixedOrganizationDirectory> directory;
  PassingChains chains;
  MemoryClients clients;
  MemoryJti jtis;
  Counters counters;
  std::int64_t now = 1764712800;
  std::unique_ptr<UdapApi> api;
};

TEST_F(UdapApiTest, Paths) {
  EXPECT_TRUE(UdapApi::isUdapPath("/fhir/.well-known/udap"));
  EXPECT_TRUE(UdapApi::isUdapPath("/oauth/token"));
  EXPECT_TRUE(UdapApi::isUdapPath("/oauth/register"));
  EXPECT_FALSE(UdapApi::isUdapPath("/.well-known/udap"));
  EXPECT_FALSE(UdapApi::isUdapPath("/oauth/token/"));
}

TEST_F(UdapApiTest, MetadataIsSignedRs256WithTheNodesChain) {
  HttpCall call;
  call.method = "GET";
  call.path = kUdapDiscoveryPath;
  HttpReply r = api->handle(call, identityOf(clinic));
  EXPECT_EQ(r.status, 200) << r.body << r.internalError;
  EXPECT_EQ(r.contentType, "application/json");
  EXPECT_EQ(r.access.action, "udap-metadata");
  auto doc = parseJsonObject(r.body);
  ASSERT_TRUE(doc);
  auto jws = auth::udap::parseJws(doc->at("signed_metadata").text);
  ASSERT_TRUE(jws) << jws.error().reason;
  EXPECT_EQ(jws->algorithm, auth::udap::JwsAlgorithm::kRS256);
  EXPECT_EQ(jws->x5cDer.size(), 2u);
  call.method = "POST";
  EXPECT_EQ(api->handle(call, identityOf(clinic)).status, 405);
}

TEST_F(UdapApiTest, RegisterModifyCancelAndTokens) {
  HttpReply r = registerBody(statement());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.access.action, "udap-register");
  const std::string id = parseJsonObject(r.body)->at("client_id").text;
  EXPECT_EQ(r.access.clientId, id);
  for (const char* claim : {"\"iss\"", "\"aud\"", "\"jti\"", "\"exp\""}) EXPECT_EQ(r.body.find(claim), std::string::npos);
  HttpReply again = registerBody(statement());
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(parseJsonObject(again.body)->at("client_id").text, id);

  HttpReply t = tokenFor(id);
  ASSERT_EQ(t.status, 200) << t.body;
  EXPECT_EQ(t.access.action, "udap-token");
  auto token = parseJsonObject(t.body);
  EXPECT_EQ(token->at("token_type").text, "Bearer");
  // Bound to the TLS certificate of the token request.
  auto claims = auth::udap::verifyAccessToken(token->at("access_token").text, kBase + "/fhir", now,
                                              tls->current()->material->key.get(), nullptr);
  ASSERT_TRUE(claims) << claims.error().reason;
  EXPECT_EQ(claims->certificateThumbprint, auth::udap::certificateThumbprintS256(clinic.cert()));
  EXPECT_EQ(claims->purposeOfUse, "TREAT");
  EXPECT_EQ(claims->clientId, id);

  HttpReply otherTls = tokenFor(id, &other);
  EXPECT_EQ(otherTls.status, 401);
  EXPECT_EQ(otherTls.refusalReason, "tls_organization_mismatch");
  HttpReply otherOrg = tokenFor(id, nullptr, kOther);
  EXPECT_EQ(otherOrg.status, 400);
  EXPECT_EQ(otherOrg.refusalReason, "b2b_organization_mismatch");

  HttpReply cancel = registerBody(statement("[]"));
  EXPECT_EQ(cancel.status, 200) << cancel.body;
  EXPECT_NE(cancel.body.find("\"grant_types\":[]"), std::string::npos);
  HttpReply after = tokenFor(id);
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(after.refusalReason, "client_cancelled");
  EXPECT_NE(after.body.find("\"error\":\"invalid_client\""), std::string::npos);
  HttpReply none = registerBody(statement("[]"));
  EXPECT_EQ(none.refusalReason, "cancel_without_registration");
}

TEST_F(UdapApiTest, TheTokenAuditNamesOnlyAProvenClient) {
  // reply.access.clientId becomes the audit entry's clientId: empty until the client is registered
  // and active and the assertion's signature, chain and SAN mapping are proven.
  const std::string id = parseJsonObject(registerBody(statement()).body)->at("client_id").text;
  HttpReply unknown = tokenFor("client-nobody-registered");
  EXPECT_EQ(unknown.refusalReason, "client_unknown");
  EXPECT_EQ(unknown.access.clientId, "");
  chains.refuse = "certificate_revoked";
  HttpReply untrusted = tokenFor(id);
  EXPECT_EQ(untrusted.refusalReason, "x5c_certificate_revoked");
  EXPECT_EQ(untrusted.access.clientId, "");
  chains.refuse.clear();
  // Signed by another organization's certificate (it lacks the registered SAN URI).
  const std::string foreign = sign(other, R"({"iss":")" + id + R"(","sub":")" + id + R"(","aud":")" + kBase +
                                              R"(/oauth/token","iat":)" + std::to_string(now) + R"(,"exp":)" +
                                              std::to_string(now + 300) + R"(,"jti":"j-foreign"})");
  HttpReply notInSan = post(kUdapTokenPath, "application/x-www-form-urlencoded",
                            "grant_type=client_credentials&scope=system%2F*.read&udap=1&client_assertion_type=urn%3Aietf%3A"
                            "params%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=" + foreign);
  EXPECT_EQ(notInSan.refusalReason, "iss_not_in_san");
  EXPECT_EQ(notInSan.access.clientId, "");
  // Proven: the refusals after that, and the grant, name it.
  HttpReply otherTls = tokenFor(id, &other);
  EXPECT_EQ(otherTls.refusalReason, "tls_organization_mismatch");
  EXPECT_EQ(otherTls.access.clientId, id);
  HttpReply otherOrg = tokenFor(id, nullptr, kOther);
  EXPECT_EQ(otherOrg.refusalReason, "b2b_organization_mismatch");
  EXPECT_EQ(otherOrg.access.clientId, id);
  EXPECT_EQ(tokenFor(id).access.clientId, id);
  registerBody(statement("[]"));
  HttpReply cancelled = tokenFor(id);
  EXPECT_EQ(cancelled.refusalReason, "client_cancelled");
  EXPECT_EQ(cancelled.access.clientId, "");
}

TEST_F(UdapApiTest, ATokenGrantsOnlyWhatUdapScopesAllowsNow) {
  const std::string id = parseJsonObject(registerBody(statement()).body)->at("client_id").text;  // system/*.read
  // The node restarted with udap.scopes = system/Observation.read: the registration's system/*.read
  // no longer grants everything.
  UdapSettings narrower = api->settings();
  narrower.scopes = {"system/Observation.read"};
  api = std::make_unique<UdapApi>(narrower, chains, *directory, *tls, clients, jtis, counters, [this] { return now; });
  HttpReply wildcard = tokenFor(id);
  EXPECT_EQ(wildcard.status, 400) << wildcard.body;
  EXPECT_EQ(wildcard.refusalReason, "scope_unsupported");
  HttpReply observation = post(kUdapTokenPath, "application/x-www-form-urlencoded",
                               "grant_type=client_credentials&scope=system%2FObservation.read+system%2FPatient.read&udap=1"
                               "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
                               "&client_assertion=" + assertion(id));
  ASSERT_EQ(observation.status, 200) << observation.body;
  EXPECT_EQ(parseJsonObject(observation.body)->at("scope").text, "system/Observation.read");
}

TEST_F(UdapApiTest, AnX5cLeafWhoseKeyUsageForbidsSigningIsRefused) {
  const std::string id = parseJsonObject(registerBody(statement()).body)->at("client_id").text;
  CertSpec spec;
  spec.extendedKeyUsage = {"clientAuth"};
  spec.sanUris = {kClinic};
  spec.keyUsage = "critical,keyAgreement";  // an EC key that may not sign
  clinic = pki.leaf(spec);
  HttpReply registration = registerBody(statement());
  EXPECT_EQ(registration.status, 400);
  EXPECT_EQ(registration.refusalReason, "x5c_key_usage");
  EXPECT_NE(registration.body.find("\"error\":\"invalid_software_statement\""), std::string::npos) << registration.body;
  HttpReply token = tokenFor(id);
  EXPECT_EQ(token.status, 401);
  EXPECT_EQ(token.refusalReason, "x5c_key_usage");
  EXPECT_NE(token.body.find("\"error\":\"invalid_client\""), std::string::npos) << token.body;
}

TEST_F(UdapApiTest, AClientIdParameterMustBeTheAssertionsIss) {
  const std::string id = parseJsonObject(registerBody(statement()).body)->at("client_id").text;
  auto withClientId = [&](const std::string& clientIdParam) {
    return post(kUdapTokenPath, "application/x-www-form-urlencoded",
                "grant_type=client_credentials&scope=system%2F*.read&udap=1&client_id=" + clientIdParam +
                    "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
                    "&client_assertion=" + assertion(id));
  };
  for (const std::string& wrong : {std::string("someone-else"), std::string(""), id + "x"}) {
    HttpReply r = withClientId(wrong);
    EXPECT_EQ(r.status, 401) << wrong;
    EXPECT_EQ(r.refusalReason, "client_id_mismatch") << wrong;
    EXPECT_NE(r.body.find("\"error\":\"invalid_client\""), std::string::npos) << r.body;
    EXPECT_EQ(r.access.clientId, "");
  }
  EXPECT_EQ(withClientId(id).status, 200);
}

TEST_F(UdapApiTest, AnOverlongIssIsRefusedBeforeAnyLookup) {
  HttpReply token = tokenFor(std::string(2049, 'c'));
  EXPECT_EQ(token.status, 401);
  EXPECT_EQ(token.refusalReason, "iss_too_long");
  EXPECT_NE(token.body.find("\"error\":\"invalid_client\""), std::string::npos) << token.body;
  EXPECT_EQ(clients.finds, 0);
  EXPECT_TRUE(jtis.seen.empty());
  const std::string longIss = "urn:x:" + std::string(2043, 'i');
  HttpReply registration = registerBody(sign(
      clinic, R"({"iss":")" + longIss + R"(","sub":")" + longIss + R"(","aud":")" + kBase + R"(/oauth/register","iat":)" +
                  std::to_string(now) + R"(,"exp":)" + std::to_string(now + 300) +
                  R"(,"jti":"j1","client_name":"EHR","contacts":["mailto:it@example.org"],)"
                  R"("grant_types":["client_credentials"],"token_endpoint_auth_method":"private_key_jwt","scope":"system/*.read"})"));
  EXPECT_EQ(registration.status, 400);
  EXPECT_EQ(registration.refusalReason, "iss_too_long");
  EXPECT_NE(registration.body.find("\"error\":\"invalid_software_statement\""), std::string::npos);
  EXPECT_TRUE(jtis.seen.empty());
  EXPECT_TRUE(clients.clients.empty());
}

TEST_F(UdapApiTest, AJtiIsRememberedPastItsJwtsExp) {
  // The JWT is accepted while exp > now; the registry keeps the jti through rememberUntil (inclusive),
  // which must not be before exp, or an assertion could be replayed in its last seconds.
  HttpReply registration = registerBody(statement());  // exp = now + 300
  ASSERT_EQ(registration.status, 201);
  EXPECT_GE(jtis.lastUntil, now + 300);
  const std::string id = parseJsonObject(registration.body)->at("client_id").text;
  ASSERT_EQ(tokenFor(id).status, 200);  // exp = now + 300
  EXPECT_GE(jtis.lastUntil, now + 300);
}

TEST_F(UdapApiTest, UntrustedChainsAreUnapproved) {
  chains.refuse = "certificate_revoked";
  HttpReply r = registerBody(statement());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.refusalReason, "x5c_certificate_revoked");
  EXPECT_NE(r.body.find("unapproved_software_statement"), std::string::npos);
}

TEST_F(UdapApiTest, TokenRequestShape) {
  const std::string form = "application/x-www-form-urlencoded";
  struct Case {
    std::string type, body;
    HeaderList extra;
    int status;
    std::string error, reason;
  };
  const std::vector<Case> cases{
      {"application/json", "{}", {}, 400, "invalid_request", "content_type"},
      {form, "grant_type=client_credentials", {{"Authorization", "Basic eDp5"}}, 400, "invalid_request", "authorization_header"},
      {form, "grant_type=client_credentials&grant_type=client_credentials", {}, 400, "invalid_request", "form_duplicate_parameter"},
      {form, "grant_type=authorization_code&udap=1", {}, 400, "unsupported_grant_type", "grant_type_unsupported"},
      {form, "scope=x&udap=1", {}, 400, "invalid_request", "grant_type_missing"},
      {form, "grant_type=client_credentials&scope=x", {}, 400, "invalid_request", "udap_version"},
      {form, "grant_type=client_credentials&udap=1&scope=x&client_secret=s", {}, 400, "invalid_request", "client_secret"},
      {form, "grant_type=client_credentials&udap=1&scope=x&client_assertion_type=x&client_assertion=a.b.c", {}, 400,
       "invalid_request", "client_assertion_type"},
      {form,
       "grant_type=client_credentials&udap=1&scope=x&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-"
       "type%3Ajwt-bearer&client_assertion=a.b",
       {}, 401, "invalid_client", "jws_malformed"},
  };
  for (const auto& c : cases) {
    HttpReply r = post(kUdapTokenPath, c.type, c.body, nullptr, c.extra);
    EXPECT_EQ(r.status, c.status) << c.body << " " << r.body;
    EXPECT_EQ(r.refusalReason, c.reason) << c.body;
    EXPECT_NE(r.body.find("\"error\":\"" + c.error + "\""), std::string::npos) << c.body << " " << r.body;
    EXPECT_EQ(r.contentType, "application/json");
    bool noStore = false;
    for (const auto& [n, v] : r.headers) noStore = noStore || (n == "Cache-Control" && v == "no-store");
    EXPECT_TRUE(noStore) << c.body;
  }
}

TEST_F(UdapApiTest, RegistrationBodyShape) {
  EXPECT_EQ(post(kUdapRegisterPath, "text/plain", "{}").refusalReason, "content_type");
  EXPECT_EQ(post(kUdapRegisterPath, "application/json", R"({"udap":"1","udap":"1"})").refusalReason,
            "body_json_duplicate_key");
  EXPECT_EQ(post(kUdapRegisterPath, "application/json", R"({"udap":"1"})").refusalReason, "software_statement_missing");
  EXPECT_EQ(post(kUdapRegisterPath, "application/json", R"({"software_statement":"a.b.c"})").refusalReason,
            "udap_version");
  EXPECT_EQ(post(kUdapRegisterPath, "application/json", R"({"software_statement":"a.b.c","udap":1})").refusalReason,
            "udap_version");
}

}  // namespace
}  // namespace hie::exchange

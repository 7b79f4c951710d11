// UdapPeerFanout against a fake peer that plays a UDAP server: signed metadata made with signJws,
// registration, token and the FHIR GET, counted per endpoint.
#include "exchange/peers/udap_peer_fanout.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>
#include <openssl/x509_vfy.h>

#include <atomic>
#include <limits>
#include <thread>

#include "auth/tls/client_standing.h"
#include "auth/udap/jws.h"
#include "auth/udap/jws_crypto.h"
#include "common/json_writer.h"
#include "tests/support/test_pki.h"

namespace hie::testing {
namespace {

using exchange::PeerFailure;
using exchange::PeerResponse;
using Clock = std::chrono::steady_clock;

const std::string kOrgA = "urn:oid:2.16.840.1.113883.3.9101";
const std::string kOrgB = "urn:oid:2.16.840.1.113883.3.9102";
const std::string kBaseB = "https://node-b.example:8443";
const std::int64_t kNow = 1'800'000'000;

Poco::JSON::Object::Ptr json(const std::string& text) {
  return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

// Verifies a chain against one trusted root, as the node's trust bundle would (no CRLs here).
class RootChainVerifier : public auth::ChainVerifier {
 public:
  explicit RootChainVerifier(X509* root) : root_(root) {}
  std::optional<auth::StandingRefusal> verifyChain(X509* leaf, STACK_OF(X509) * untrusted,
                                                   std::int64_t now) const override {
    ossl::UniquePtr<X509_STORE> store(X509_STORE_new());
    X509_STORE_add_cert(store.get(), root_);
    ossl::UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
    X509_STORE_CTX_init(ctx.get(), store.get(), leaf, untrusted);
    (void)now;  // the test certificates are valid now (the fake clock is only the JWTs')
    if (X509_verify_cert(ctx.get()) == 1) return std::nullopt;
    return auth::StandingRefusal{"unknown_ca", X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()))};
  }

 private:
  X509* root_;
};

class MemoryRegistrations : public exchange::UdapRegistrationStore {
 public:
  Result<std::optional<Registration>> find(const std::string& organization) override {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = rows_.find(organization);
    if (it == rows_.end()) return std::optional<Registration>();
    return std::optional<Registration>(it->second);
  }
  Result<void> save(const std::string& organization, const Registration& registration) override {
    std::lock_guard<std::mutex> lock(mutex_);
    rows_[organization] = registration;
    return {};
  }
  Result<void> forget(const std::string& organization) override {
    std::lock_guard<std::mutex> lock(mutex_);
    rows_.erase(organization);
    return {};
  }
  std::mutex mutex_;
  std::map<std::string, Registration> rows_;
};

class KeySigner : public exchange::UdapJwtSigner {
 public:
  KeySigner(EVP_PKEY* key, std::vector<std::string> x5c) : key_(key), x5c_(std::move(x5c)) {}
  std::string algorithm() const override {
    auto a = auth::udap::algorithmForKey(key_);
    return a ? auth::udap::jwsAlgorithmName(*a) : "";
  }
  Result<std::string> sign(const std::string& claimsJson) const override {
    return auth::udap::signJws(key_, x5c_, "JWT", claimsJson);
  }

 private:
  EVP_PKEY* key_;
  std::vector<std::string> x5c_;
};

// The UDAP server of node B, and its FHIR API, behind PeerFanout and PeerPoster.
class FakeUdapPeer : public exchange::PeerFanout, public exchange::PeerPoster {
 public:
  // What the signed metadata says (tests change it).
  Credential signingCert;
  std::vector<std::string> x5c;
  std::string iss = kBaseB + "/fhir";
  std::int64_t iat = kNow - 10, exp = kNow + 86400;
  std::string tokenEndpoint = kBaseB + "/oauth/token";
  std::string registrationEndpoint = kBaseB + "/oauth/register";
  int expiresIn = 300;
  std::string clientIdJson;  // the registration answer's client_id as JSON text ("" = "client-N")
  std::atomic<bool> refuseRegistrations{false};  // answer 400 invalid_software_statement
  std::atomic<bool> invalidClientAlways{false};  // the token endpoint knows no client

  std::atomic<int> discoveries{0}, registrations{0}, tokens{0}, reads{0};
  std::atomic<int> refuseNextReads{0};  // answer 401 to this many reads
  std::mutex mutex;
  std::set<std::string> activeClients;  // guarded by mutex
  std::set<std::string> validTokens;
  std::vector<std::string> purposes;    // purpose_of_use of every token request
  std::vector<Poco::JSON::Object::Ptr> statements;  // software statement claims
  std::vector<Poco::JSON::Object::Ptr> assertions;  // client assertion claims
  std::vector<exchange::HeaderList> readHeaders;
  std::function<void()> beforePost;  // runs at the start of every POST, outside mutex (tests block on it)

  bool submit(Clock::time_point, std::function<void()> call) override {
    call();
    return true;
  }

  tl::expected<PeerResponse, PeerFailure> get(const auth::PeerEntry& peer, const std::string& path,
                                              const exchange::HeaderList& headers, Clock::time_point) override {
    EXPECT_EQ(peer.organization, kOrgB);
    if (path == "/fhir/.well-known/udap") {
      ++discoveries;
      return answer(200, metadata());
    }
    ++reads;
    std::string bearer;
    for (const auto& [n, v] : headers) {
      if (n == "Authorization") bearer = v;
    }
    std::lock_guard<std::mutex> lock(mutex);
    readHeaders.push_back(headers);
    if (refuseNextReads > 0) {
      --refuseNextReads;
      return answer(401, R"({"error":"invalid_token"})");
    }
    if (bearer.rfind("Bearer ", 0) != 0 || validTokens.count(bearer.substr(7)) == 0) return answer(401, "{}");
    return answer(200, R"({"resourceType":"Bundle"})");
  }

  tl::expected<PeerResponse, PeerFailure> post(const auth::PeerEntry&, const std::string& path, const std::string& body,
                                               const std::string& contentType, const exchange::HeaderList&,
                                               Clock::time_point) override {
    if (beforePost) beforePost();
    std::lock_guard<std::mutex> lock(mutex);
    if (path == "/oauth/register") {
      ++registrations;
      EXPECT_EQ(contentType, "application/json");
      auto request = json(body);
      EXPECT_EQ(request->getValue<std::string>("udap"), "1");
      auto jws = auth::udap::parseJws(request->getValue<std::string>("software_statement"));
      EXPECT_TRUE(jws);
      if (!jws) return answer(400, R"({"error":"invalid_software_statement"})");
      statements.push_back(json(jws->claimsJson));
      if (refuseRegistrations) return answer(400, R"({"error":"unapproved_software_statement"})");
      const std::string id = "client-" + std::to_string(registrations.load());
      activeClients.insert(id);
      if (!clientIdJson.empty()) {
        auto answered = json("{\"v\":" + clientIdJson + "}")->get("v");
        if (answered.isString()) activeClients.insert(answered.extract<std::string>());
      }
      const std::string idJson = clientIdJson.empty() ? "\"" + id + "\"" : clientIdJson;
      return answer(201, R"({"client_id":)" + idJson + R"(,"grant_types":["client_credentials"]})");
    }
    if (path == "/oauth/token") {
      ++tokens;
      EXPECT_EQ(contentType, "application/x-www-form-urlencoded");
      EXPECT_NE(body.find("grant_type=client_credentials"), std::string::npos);
      EXPECT_NE(body.find("&udap=1"), std::string::npos);
      const auto at = body.find("client_assertion=");
      const std::string assertion = body.substr(at + 17, body.find('&', at) - at - 17);
      auto jws = auth::udap::parseJws(assertion);
      EXPECT_TRUE(jws) << assertion;
      if (!jws) return answer(400, R"({"error":"invalid_client"})");
      auto claims = json(jws->claimsJson);
      assertions.push_back(claims);
      if (invalidClientAlways || activeClients.count(claims->getValue<std::string>("iss")) == 0) {
        return answer(400, R"({"error":"invalid_client","error_description":"unknown client"})");
      }
      auto b2b = claims->getObject("extensions")->getObject("hl7-b2b");
      purposes.push_back(b2b->getArray("purpose_of_use")->getElement<std::string>(0));
      const std::string token = "token-" + std::to_string(tokens.load());
      validTokens.insert(token);
      return answer(200, R"({"access_token":")" + token + R"(","token_type":"Bearer","expires_in":)" +
                             std::to_string(expiresIn) + "}");
    }
    return answer(404, "{}");
  }

  void cancelAll() {
    std::lock_guard<std::mutex> lock(mutex);
    activeClients.clear();
    validTokens.clear();
  }

  std::string metadata() const {
    JsonWriter claims;
    claims.beginObject()
        .member("iss", iss)
        .member("sub", iss)
        .member("iat", iat)
        .member("exp", exp)
        .member("jti", "m-1")
        .member("token_endpoint", tokenEndpoint)
        .member("registration_endpoint", registrationEndpoint)
        .endObject();
    auto jwt = auth::udap::signJws(signingCert.key(), x5c, "", claims.take());
    EXPECT_TRUE(jwt);
    JsonWriter doc;
    auto list = [&](const char* key, std::vector<std::string> values) {
      doc.key(key).beginArray();
      for (const auto& v : values) doc.value(v);
      doc.endArray();
    };
    doc.beginObject();
    list("udap_versions_supported", {"1"});
    list("udap_profiles_supported", {"udap_dcr", "udap_authn", "udap_authz"});
    list("udap_authorization_extensions_supported", {"hl7-b2b"});
    list("grant_types_supported", {"client_credentials"});
    list("token_endpoint_auth_methods_supported", {"private_key_jwt"});
    list("token_endpoint_auth_signing_alg_values_supported", {"RS256", "ES256"});
    list("registration_endpoint_jwt_signing_alg_values_supported", {"RS256", "ES256"});
    doc.member("token_endpoint", tokenEndpoint).member("registration_endpoint", registrationEndpoint);
    doc.member("signed_metadata", *jwt).endObject();
    return doc.take();
  }

  static tl::expected<PeerResponse, PeerFailure> answer(int status, std::string body) {
    PeerResponse r;
    r.status = status;
    r.contentType = "application/json";
    r.body = std::move(body);
    return r;
  }
};

class UdapPeerFanoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki = TestPki::create();
    CertSpec b;
    b.commonName = "node-b";
    b.sanUris = {kOrgB, kBaseB + "/fhir"};
    b.extendedKeyUsage = {"serverAuth", "clientAuth"};
    useSigningCert(pki.leaf(b), pki.intermediate);
    CertSpec a;
    a.commonName = "node-a";
    a.sanUris = {kOrgA};
    a.extendedKeyUsage = {"serverAuth", "clientAuth"};
    nodeA = pki.leaf(a);
    signer = std::make_unique<KeySigner>(nodeA.key(), std::vector<std::string>{nodeA.certDer(), pki.intermediate.certDer()});
    auth::RegistrySnapshot snap;
    snap.organizations.push_back({kOrgA, "Node A", auth::OrganizationStatus::kActive, {auth::Role::kMember}, {}, {}});
    snap.organizations.push_back({kOrgB, "Node B", auth::OrganizationStatus::kActive, {auth::Role::kMember}, {}, {}});
    directory = std::make_unique<auth::FixedOrganizationDirectory>(std::move(snap));
    chains = std::make_unique<RootChainVerifier>(pki.root.cert());
    fanout = makeFanout();
  }

  std::unique_ptr<exchange::UdapPeerFanout> makeFanout() {
    exchange::UdapClientOptions options;
    options.organization = kOrgA;
    options.organizationName = "Node A";
    options.clientName = "hie-node a";
    options.contact = "mailto:ops@a.example";
    return std::make_unique<exchange::UdapPeerFanout>(peer, peer, registrations, *chains, *directory, *signer,
                                                      options, [this] { return clock.load(); });
  }

  // For table-driven cases: a new fan-out (nothing in memory), an empty store, the peer as at the start.
  void reset() {
    peer.discoveries = 0;
    peer.registrations = 0;
    peer.tokens = 0;
    peer.reads = 0;
    peer.tokenEndpoint = kBaseB + "/oauth/token";
    peer.registrationEndpoint = kBaseB + "/oauth/register";
    peer.clientIdJson.clear();
    peer.refuseRegistrations = false;
    peer.invalidClientAlways = false;
    {
      std::lock_guard<std::mutex> lock(peer.mutex);
      peer.activeClients.clear();
      peer.validTokens.clear();
    }
    registrations.rows_.clear();
    fanout = makeFanout();
  }

  void useSigningCert(const Credential& leaf, const Credential& issuer) {
    peer.signingCert = leaf;
    peer.x5c = {leaf.certDer(), issuer.certDer()};
  }

  tl::expected<PeerResponse, PeerFailure> call(const std::string& purpose = "TREAT", const std::string& auth = "udap") {
    auth::PeerEntry entry{kOrgB, kBaseB};
    entry.auth = auth;
    return fanout->get(entry, "/fhir/Patient?identifier=x",
                       {{"X-Purpose-Of-Use", purpose}, {"X-Request-Id", "req-1"}},
                       Clock::now() + std::chrono::seconds(10));
  }

  void expectMetadataInvalid() {
    auto r = call();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().reason, "udap_metadata_invalid") << r.error().detail;
    EXPECT_EQ(r.error().auth.authentication, "mtls+udap");
    EXPECT_EQ(peer.registrations, 0) << "no registration after invalid metadata";
    EXPECT_EQ(peer.tokens, 0);
    EXPECT_EQ(peer.reads, 0);
  }

  std::atomic<std::int64_t> clock{kNow};  // the fan-out's wall clock (seconds)
  TestPki pki;
  Credential nodeA;
  FakeUdapPeer peer;
  MemoryRegistrations registrations;
  std::unique_ptr<KeySigner> signer;
  std::unique_ptr<auth::FixedOrganizationDirectory> directory;
  std::unique_ptr<RootChainVerifier> chains;
  std::unique_ptr<exchange::UdapPeerFanout> fanout;
};

TEST_F(UdapPeerFanoutTest, MtlsPeerPassesThrough) {
  auto r = call("TREAT", "mtls");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401) << "the fake wants a token: none was sent";
  EXPECT_EQ(r->auth.authentication, "mtls");
  EXPECT_EQ(r->auth.clientId, "");
  EXPECT_EQ(peer.discoveries, 0);
  EXPECT_EQ(peer.tokens, 0);
  ASSERT_EQ(peer.readHeaders.size(), 1u);
  for (const auto& [n, v] : peer.readHeaders[0]) EXPECT_NE(n, "Authorization");
}

TEST_F(UdapPeerFanoutTest, DiscoversRegistersGetsATokenAndCalls) {
  auto r = call();
  ASSERT_TRUE(r) << r.error().reason << ": " << r.error().detail;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->auth.authentication, "mtls+udap");
  EXPECT_EQ(r->auth.clientId, "client-1");
  EXPECT_EQ(peer.discoveries, 1);
  EXPECT_EQ(peer.registrations, 1);
  EXPECT_EQ(peer.tokens, 1);
  EXPECT_EQ(peer.reads, 1);
  // The software statement (registration.md 3.1).
  ASSERT_EQ(peer.statements.size(), 1u);
  auto s = peer.statements[0];
  EXPECT_EQ(s->getValue<std::string>("iss"), kOrgA);
  EXPECT_EQ(s->getValue<std::string>("sub"), kOrgA);
  EXPECT_EQ(s->getValue<std::string>("aud"), kBaseB + "/oauth/register");
  EXPECT_EQ(s->getValue<std::int64_t>("exp") - s->getValue<std::int64_t>("iat"), 300);
  EXPECT_EQ(s->getValue<std::string>("client_name"), "hie-node a");
  EXPECT_EQ(s->getArray("contacts")->getElement<std::string>(0), "mailto:ops@a.example");
  EXPECT_EQ(s->getArray("grant_types")->size(), 1u);
  EXPECT_EQ(s->getArray("grant_types")->getElement<std::string>(0), "client_credentials");
  EXPECT_EQ(s->getValue<std::string>("token_endpoint_auth_method"), "private_key_jwt");
  EXPECT_EQ(s->getValue<std::string>("scope"), "system/*.read");
  EXPECT_FALSE(s->getValue<std::string>("jti").empty());
  // The client assertion (b2b.md 5.2.1).
  ASSERT_EQ(peer.assertions.size(), 1u);
  auto a = peer.assertions[0];
  EXPECT_EQ(a->getValue<std::string>("iss"), "client-1");
  EXPECT_EQ(a->getValue<std::string>("sub"), "client-1");
  EXPECT_EQ(a->getValue<std::string>("aud"), kBaseB + "/oauth/token");
  EXPECT_EQ(a->getValue<std::int64_t>("exp") - a->getValue<std::int64_t>("iat"), 300);
  auto b2b = a->getObject("extensions")->getObject("hl7-b2b");
  EXPECT_EQ(b2b->getValue<std::string>("version"), "1");
  EXPECT_EQ(b2b->getValue<std::string>("organization_id"), kOrgA);
  EXPECT_EQ(b2b->getValue<std::string>("organization_name"), "Node A");
  EXPECT_EQ(peer.purposes, std::vector<std::string>{"urn:oid:2.16.840.1.113883.5.8#TREAT"});
  // The stored registration.
  auto stored = registrations.find(kOrgB);
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->clientId, "client-1");
  EXPECT_EQ((*stored)->registrationEndpoint, kBaseB + "/oauth/register");
}

// For the audit entry of a call get() never answered (exchange_api: queued or running at the deadline).
TEST_F(UdapPeerFanoutTest, AuthForNamesTheKnownClient) {
  auth::PeerEntry udap{kOrgB, kBaseB};
  udap.auth = "udap";
  auth::PeerEntry mtls{kOrgB, kBaseB};
  EXPECT_EQ(fanout->authFor(udap).authentication, "mtls+udap");
  EXPECT_EQ(fanout->authFor(udap).clientId, "");
  ASSERT_TRUE(call());
  EXPECT_EQ(fanout->authFor(udap).authentication, "mtls+udap");
  EXPECT_EQ(fanout->authFor(udap).clientId, "client-1");
  EXPECT_EQ(fanout->authFor(mtls).authentication, "mtls");
  EXPECT_EQ(fanout->authFor(mtls).clientId, "");
}

TEST_F(UdapPeerFanoutTest, TokenIsCachedPerPurpose) {
  ASSERT_TRUE(call());
  auto second = call();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(peer.discoveries, 1);
  EXPECT_EQ(peer.registrations, 1);
  EXPECT_EQ(peer.tokens, 1) << "the second call reuses the token";
  EXPECT_EQ(peer.reads, 2);
  auto other = call("HPAYMT");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
  EXPECT_EQ(peer.registrations, 1);
  EXPECT_EQ(peer.tokens, 2) << "another purpose, another token";
  EXPECT_EQ(peer.purposes.back(), "urn:oid:2.16.840.1.113883.5.8#HPAYMT");
}

TEST_F(UdapPeerFanoutTest, ATokenCloseToExpiryIsNotReused) {
  peer.expiresIn = 20;  // below the 30 s margin
  ASSERT_TRUE(call());
  ASSERT_TRUE(call());
  EXPECT_EQ(peer.tokens, 2);
  EXPECT_EQ(peer.registrations, 1);
}

TEST_F(UdapPeerFanoutTest, A401DropsTheTokenAndRetriesOnce) {
  ASSERT_TRUE(call());
  peer.refuseNextReads = 1;
  auto r = call();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(peer.tokens, 2) << "a new token after the 401";
  EXPECT_EQ(peer.reads, 3);
  peer.refuseNextReads = 5;
  auto refused = call();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401) << "only one retry";
  EXPECT_EQ(peer.reads, 5);
  EXPECT_EQ(refused->auth.authentication, "mtls+udap");
}

TEST_F(UdapPeerFanoutTest, InvalidClientRegistersAgainOnce) {
  ASSERT_TRUE(call());
  peer.cancelAll();  // as `hie-node udap clients cancel` on the peer
  auto r = call();   // 401 (token gone) -> new token -> invalid_client -> register -> token -> 200
  ASSERT_TRUE(r) << r.error().reason << ": " << r.error().detail;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(peer.registrations, 2);
  EXPECT_EQ(r->auth.clientId, "client-2");
  auto stored = registrations.find(kOrgB);
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->clientId, "client-2");
}

// At most one registration per call: invalid_client for the client just registered is not followed by
// a second registration, and it holds back the next registration as a refused one does.
TEST_F(UdapPeerFanoutTest, InvalidClientAfterAFreshRegistrationDoesNotRegisterAgain) {
  peer.invalidClientAlways = true;
  auto r = call();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "udap_token_refused") << r.error().detail;
  EXPECT_NE(r.error().detail.find("invalid_client"), std::string::npos) << r.error().detail;
  EXPECT_NE(r.error().detail.find("next registration attempt is allowed at"), std::string::npos) << r.error().detail;
  EXPECT_EQ(peer.registrations, 1) << "one registration in one call";
  EXPECT_EQ(peer.tokens, 1);
  EXPECT_TRUE(registrations.rows_.empty()) << "the client the peer does not know is forgotten";
  auto next = call();
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().reason, "udap_registration_refused");
  EXPECT_EQ(peer.registrations, 1);
  EXPECT_EQ(peer.tokens, 1);

  // A stored registration the peer has forgotten: one registration more, not two.
  reset();
  ASSERT_TRUE(call());
  EXPECT_EQ(peer.registrations, 1);
  peer.invalidClientAlways = true;
  peer.cancelAll();
  auto again = call();  // 401 -> token: invalid_client -> register -> token: invalid_client
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().reason, "udap_token_refused") << again.error().detail;
  EXPECT_EQ(peer.registrations, 2);
}

// A refused registration: the next one waits 30 s, then 60, 120, ... at most 10 min; calls in between
// fail at once (no discovery, no registration) and say when the next attempt is allowed.
TEST_F(UdapPeerFanoutTest, ARefusedRegistrationBacksOff) {
  peer.refuseRegistrations = true;
  auto first = call();
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().reason, "udap_registration_refused");
  EXPECT_NE(first.error().detail.find("HTTP 400 unapproved_software_statement"), std::string::npos)
      << first.error().detail;
  EXPECT_NE(first.error().detail.find("(in 30 s)"), std::string::npos) << first.error().detail;
  EXPECT_EQ(peer.registrations, 1);
  EXPECT_EQ(peer.discoveries, 1);
  clock += 29;
  auto waiting = call();
  ASSERT_FALSE(waiting);
  EXPECT_EQ(waiting.error().reason, "udap_registration_refused");
  EXPECT_NE(waiting.error().detail.find("next attempt is allowed at 2027-01-15T08:00:30Z (in 1 s)"), std::string::npos)
      << waiting.error().detail;
  EXPECT_EQ(peer.registrations, 1);
  EXPECT_EQ(peer.discoveries, 1) << "a call during the backoff fails at once";
  int expected = 1;
  std::int64_t refusedAt = kNow, previous = 30;
  for (const std::int64_t backoff : {60, 120, 240, 480, 600, 600}) {
    clock = refusedAt + previous;  // the previous backoff has just passed
    auto attempt = call();
    ASSERT_FALSE(attempt);
    EXPECT_EQ(peer.registrations, ++expected) << backoff;
    EXPECT_NE(attempt.error().detail.find("(in " + std::to_string(backoff) + " s)"), std::string::npos)
        << backoff << ": " << attempt.error().detail;
    refusedAt = clock;
    previous = backoff;
    clock = refusedAt + backoff - 1;
    auto held = call();
    ASSERT_FALSE(held);
    EXPECT_EQ(held.error().reason, "udap_registration_refused");
    EXPECT_EQ(peer.registrations, expected) << "none during the backoff of " << backoff << " s";
  }
  // Accepted at last: the backoff is over, and a later refusal starts again at 30 s.
  peer.refuseRegistrations = false;
  clock = refusedAt + previous;
  auto accepted = call();
  ASSERT_TRUE(accepted) << accepted.error().detail;
  EXPECT_EQ(accepted->status, 200);
}

// What is cached for a peer belongs to its directory entry: removed and re-added (another `since`; the
// registry forgets the stored registration with it) or turned to auth=mtls, nothing cached is used.
TEST_F(UdapPeerFanoutTest, NothingCachedOutlivesTheDirectoryEntry) {
  auto ask = [&](const auth::PeerEntry& entry) {
    return fanout->get(entry, "/fhir/Patient", {{"X-Purpose-Of-Use", "TREAT"}}, Clock::now() + std::chrono::seconds(5));
  };
  auth::PeerEntry first{kOrgB, kBaseB};
  first.auth = "udap";
  first.since = 1'000'001;
  auto r = ask(first);
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->auth.clientId, "client-1");
  // `peer remove` (which forgets the registration) and `peer add` with the same URL.
  ASSERT_TRUE(registrations.forget(kOrgB));
  auth::PeerEntry readded = first;
  readded.since = 2'000'002;
  EXPECT_EQ(fanout->authFor(readded).clientId, "") << "the old entry's client_id is not this entry's";
  r = ask(readded);
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->auth.clientId, "client-2");
  EXPECT_EQ(peer.discoveries, 2);
  EXPECT_EQ(peer.registrations, 2) << "the re-added entry registers anew";
  EXPECT_EQ(peer.tokens, 2) << "and does not use the old entry's token";
  EXPECT_EQ(fanout->authFor(readded).clientId, "client-2");
  EXPECT_EQ(fanout->authFor(first).clientId, "");
  // Turned to auth=mtls and back (the registry keeps `since` here; the store still has client-2):
  // no token of the UDAP entry is reused.
  auth::PeerEntry mtls = readded;
  mtls.auth = "mtls";
  ASSERT_TRUE(ask(mtls));
  r = ask(readded);
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(peer.discoveries, 3);
  EXPECT_EQ(peer.tokens, 3);
  EXPECT_EQ(peer.registrations, 2);
}

TEST_F(UdapPeerFanoutTest, StoredRegistrationIsUsedWithoutRegistering) {
  ASSERT_TRUE(call());
  // A new process (a restart): a fresh fan-out over the same store.
  exchange::UdapClientOptions options;
  options.organization = kOrgA;
  options.contact = "mailto:ops@a.example";
  exchange::UdapPeerFanout restarted(peer, peer, registrations, *chains, *directory, *signer, options,
                                     [] { return kNow; });
  auth::PeerEntry entry{kOrgB, kBaseB};
  entry.auth = "udap";
  auto r = restarted.get(entry, "/fhir/Patient", {{"X-Purpose-Of-Use", "TREAT"}}, Clock::now() + std::chrono::seconds(5));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(peer.registrations, 1);
  EXPECT_EQ(peer.discoveries, 2);
  EXPECT_EQ(r->auth.clientId, "client-1");
}

TEST_F(UdapPeerFanoutTest, MetadataSignedUnderAForeignCaIsRefused) {
  TestPki foreign = TestPki::create();
  CertSpec b;
  b.commonName = "node-b";
  b.sanUris = {kOrgB, kBaseB + "/fhir"};
  useSigningCert(foreign.leaf(b), foreign.intermediate);
  expectMetadataInvalid();
}

TEST_F(UdapPeerFanoutTest, MetadataWithTheWrongIssuerIsRefused) {
  peer.iss = kBaseB + "/other";
  expectMetadataInvalid();
}

TEST_F(UdapPeerFanoutTest, MetadataWhoseIssuerIsNotASanUriIsRefused) {
  CertSpec b;
  b.commonName = "node-b";
  b.sanUris = {kOrgB};  // no FHIR base URL
  useSigningCert(pki.leaf(b), pki.intermediate);
  expectMetadataInvalid();
}

TEST_F(UdapPeerFanoutTest, MetadataSignedByAnotherOrganizationIsRefused) {
  CertSpec b;
  b.commonName = "impostor";
  b.sanUris = {kOrgA, kBaseB + "/fhir"};  // a valid certificate of organization A
  useSigningCert(pki.leaf(b), pki.intermediate);
  expectMetadataInvalid();
}

TEST_F(UdapPeerFanoutTest, ExpiredMetadataIsRefused) {
  peer.iat = kNow - 7200;
  peer.exp = kNow - 1;
  expectMetadataInvalid();
}

TEST_F(UdapPeerFanoutTest, MetadataValidForMoreThanAYearIsRefused) {
  peer.exp = peer.iat + 365LL * 86400 + 1;
  expectMetadataInvalid();
}

TEST_F(UdapPeerFanoutTest, AnEndpointOnAnotherHostIsRefused) {
  peer.tokenEndpoint = "https://elsewhere.example:8443/oauth/token";
  expectMetadataInvalid();
}

TEST_F(UdapPeerFanoutTest, AnEndpointOnAnotherPortIsRefused) {
  peer.registrationEndpoint = "https://node-b.example:9443/oauth/register";
  expectMetadataInvalid();
}

// Each endpoint of the signed metadata: https, the directory URL's host and port, a path below its
// path, nothing that could be read another way.
TEST_F(UdapPeerFanoutTest, EndpointsOutsideThePeersUrlAreRefused) {
  for (const std::string bad :
       {"http://node-b.example:8443/oauth/token", "https://node-b.example/oauth/token",
        "https://node-b.example:8443/oauth/%74oken", "https://node-b.example:8443/oauth/token?x=1",
        "https://node-b.example:8443/oauth/token#f", "https://node-b.example:8443/oauth/../token",
        "https://node-b.example:8443/./oauth/token", "https://node-b.example:8443/oauth/..",
        "https://user@node-b.example:8443/oauth/token", "https://node-b.example:8443@evil.example/oauth/token",
        "https://node-b.example:8443", "https://node-b.example:8443/", "https://node-b.example:8443//oauth/token",
        "https://node-b.example.evil:8443/oauth/token", "https://node-b.example:8443/oauth/to ken",
        "https://node-b.example:8443\\oauth\\token", "https://[::1]:8443/oauth/token"}) {
    for (const bool token : {true, false}) {
      reset();
      (token ? peer.tokenEndpoint : peer.registrationEndpoint) = bad;
      auto r = call();
      ASSERT_FALSE(r) << bad;
      EXPECT_EQ(r.error().reason, "udap_metadata_invalid") << bad;
      EXPECT_NE(r.error().detail.find(token ? "token_endpoint" : "registration_endpoint"), std::string::npos)
          << bad << ": " << r.error().detail;
      EXPECT_EQ(peer.registrations, 0) << bad;
      EXPECT_EQ(peer.tokens, 0) << bad;
    }
  }
}

TEST_F(UdapPeerFanoutTest, EndpointsMustBeBelowTheDirectoryUrlsPath) {
  const std::string base = kBaseB + "/hie";
  CertSpec b;
  b.commonName = "node-b";
  b.sanUris = {kOrgB, base + "/fhir"};
  useSigningCert(pki.leaf(b), pki.intermediate);
  peer.iss = base + "/fhir";
  auth::PeerEntry entry{kOrgB, base};
  entry.auth = "udap";
  auto ask = [&] {
    return fanout->get(entry, "/fhir/Patient", {{"X-Purpose-Of-Use", "TREAT"}}, Clock::now() + std::chrono::seconds(5));
  };
  peer.tokenEndpoint = kBaseB + "/hie-other/oauth/token";
  peer.registrationEndpoint = base + "/oauth/register";
  auto outside = ask();
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().reason, "udap_metadata_invalid") << outside.error().detail;
  // Below the prefix, the host in another case: posted to the path below the directory URL.
  peer.tokenEndpoint = "https://NODE-B.example:8443/hie/oauth/token";
  auto below = ask();
  ASSERT_TRUE(below) << below.error().reason << ": " << below.error().detail;
  EXPECT_EQ(below->status, 200);
  EXPECT_EQ(peer.registrations, 1);
  EXPECT_EQ(peer.tokens, 1);
}

// The client_id the peer returns is kept, logged, audited and sent as a JWT's iss: 1-256 printable ASCII.
TEST_F(UdapPeerFanoutTest, AMalformedClientIdIsRefusedAndNotStored) {
  const std::vector<std::string> malformed{R"("")", R"("a b")", R"("a\u0001b")", R"("a\nb")", R"("caf\u00e9")",
                                           R"("a\u007fb")", "\"" + std::string(257, 'x') + "\"", "42", "null"};
  for (const std::string& bad : malformed) {
    reset();
    peer.clientIdJson = bad;
    auto r = call();
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().reason, "udap_registration_refused") << bad;
    EXPECT_NE(r.error().detail.find("client_id"), std::string::npos) << r.error().detail;
    EXPECT_EQ(peer.tokens, 0) << bad;
    EXPECT_TRUE(registrations.rows_.empty()) << bad;
  }
  reset();
  const std::string longest(256, '~');
  peer.clientIdJson = "\"" + longest + "\"";
  auto r = call();
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(registrations.rows_[kOrgB].clientId, longest);
}

TEST_F(UdapPeerFanoutTest, WithoutAContactNoCallIsMade) {
  exchange::UdapClientOptions options;
  options.organization = kOrgA;
  exchange::UdapPeerFanout unconfigured(peer, peer, registrations, *chains, *directory, *signer, options,
                                        [] { return kNow; });
  auth::PeerEntry entry{kOrgB, kBaseB};
  entry.auth = "udap";
  auto r = unconfigured.get(entry, "/fhir/Patient", {{"X-Purpose-Of-Use", "TREAT"}}, Clock::now() + std::chrono::seconds(5));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "udap_not_configured");
  EXPECT_EQ(peer.discoveries, 0);
}

TEST_F(UdapPeerFanoutTest, ConcurrentCallsShareOneAcquisition) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto r = call();
      if (r && r->status == 200) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 8);
  EXPECT_EQ(peer.discoveries, 1);
  EXPECT_EQ(peer.registrations, 1);
  EXPECT_EQ(peer.tokens, 1);
}

// A call that finds another call's acquisition in flight waits for it only until its own deadline:
// it ends with reason timeout (audited as a UDAP call), and the acquisition in flight still completes.
TEST_F(UdapPeerFanoutTest, AWaitingCallEndsAtItsDeadline) {
  std::atomic<bool> entered{false}, release{false};
  peer.beforePost = [&] {
    entered = true;
    for (int i = 0; i < 1000 && !release; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  };
  tl::expected<PeerResponse, PeerFailure> first = tl::make_unexpected(PeerFailure{});
  std::thread slow([&] { first = call(); });
  for (int i = 0; i < 1000 && !entered; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(entered) << "the first call never reached the peer's registration endpoint";

  auth::PeerEntry entry{kOrgB, kBaseB};
  entry.auth = "udap";
  const auto started = Clock::now();
  auto waited = fanout->get(entry, "/fhir/Patient?identifier=x", {{"X-Purpose-Of-Use", "TREAT"}, {"X-Request-Id", "req-2"}},
                            started + std::chrono::milliseconds(200));
  release = true;
  slow.join();
  ASSERT_FALSE(waited);
  EXPECT_EQ(waited.error().reason, "timeout") << waited.error().detail;
  EXPECT_EQ(waited.error().auth.authentication, "mtls+udap");
  EXPECT_GE(Clock::now() - started, std::chrono::milliseconds(200));
  ASSERT_TRUE(first) << first.error().reason << ": " << first.error().detail;
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(peer.registrations, 1);
  EXPECT_EQ(peer.tokens, 1);
  EXPECT_EQ(peer.reads, 1) << "the call that timed out never read";
}

// A peer that accepts every registration and answers every token request invalid_client: each call
// registers once and is refused, and the backoff still doubles (an accepted registration does not end
// it; only a granted token does).
TEST_F(UdapPeerFanoutTest, ABackoffAfterInvalidClientGrowsThoughRegistrationsAreAccepted) {
  peer.invalidClientAlways = true;
  std::int64_t at = kNow;
  for (const std::int64_t backoff : {30, 60, 120, 240}) {
    clock = at;
    auto r = call();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().reason, "udap_token_refused") << r.error().detail;
    EXPECT_NE(r.error().detail.find("(in " + std::to_string(backoff) + " s)"), std::string::npos)
        << backoff << ": " << r.error().detail;
    at += backoff;
  }
  EXPECT_EQ(peer.registrations, 4) << "one registration per call, none twice";
  // A granted token ends the backoff: the next refusal starts again at 30 s.
  peer.invalidClientAlways = false;
  clock = at;
  auto granted = call();
  ASSERT_TRUE(granted) << granted.error().detail;
  peer.invalidClientAlways = true;
  auto again = call("ETREAT");  // another purpose: no token cached for it
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().detail.find("(in 30 s)"), std::string::npos) << again.error().detail;
}

// signed_metadata's exp - iat is checked without overflow: an iat near INT64_MIN is refused as more
// than a year, not wrapped into a negative lifetime (UBSan would abort on the overflow).
TEST_F(UdapPeerFanoutTest, MetadataWithAnIatFarInThePastIsRefused) {
  peer.iat = std::numeric_limits<std::int64_t>::min() + 1;
  expectMetadataInvalid();
}

// A call whose directory entry is replaced while it registers (peer remove + peer add) neither stores
// its client_id over the new entry's nor forgets the new entry's registration.
TEST_F(UdapPeerFanoutTest, ARegistrationOfAReplacedEntryIsNotStored) {
  std::atomic<bool> first{true}, entered{false}, release{false};
  peer.beforePost = [&] {
    if (!first.exchange(false)) return;
    entered = true;
    for (int i = 0; i < 1000 && !release; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  };
  auth::PeerEntry old{kOrgB, kBaseB};
  old.auth = "udap";
  old.since = 1'000'001;
  auth::PeerEntry replaced = old;
  replaced.since = 2'000'002;
  auto ask = [&](const auth::PeerEntry& entry) {
    return fanout->get(entry, "/fhir/Patient", {{"X-Purpose-Of-Use", "TREAT"}}, Clock::now() + std::chrono::seconds(10));
  };
  tl::expected<PeerResponse, PeerFailure> slow = tl::make_unexpected(PeerFailure{});
  std::thread oldCall([&] { slow = ask(old); });
  for (int i = 0; i < 1000 && !entered; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(entered);
  auto r = ask(replaced);  // the new entry's own state: it does not wait for the old entry's call
  release = true;
  oldCall.join();
  ASSERT_TRUE(r) << r.error().detail;
  ASSERT_TRUE(slow) << slow.error().detail;
  EXPECT_EQ(peer.registrations, 2);
  auto stored = registrations.find(kOrgB);
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->clientId, r->auth.clientId) << "the stored registration is the new entry's";
  EXPECT_NE(slow->auth.clientId, r->auth.clientId);
  EXPECT_EQ(fanout->authFor(replaced).clientId, r->auth.clientId);
}

}  // namespace
}  // namespace hie::testing

// The outbound client's signatures, against a scripted TLS peer in process:
// every request (and every attempt) signed with the TLS client certificate's
// key, verifiable by the peer with the certificate of the handshake; every
// answer checked against the server certificate of its connection under the
// peer's signature policy, a refused answer being a failed call.
#include "exchange/peers/peer_client.h"

#include <gtest/gtest.h>

#include <chrono>

#include "auth/identity/certificate_identity.h"
#include "auth/registry/organization_registry.h"
#include "auth/signatures/exchange_signatures.h"
#include "auth/tls/tls_material.h"
#include "exchange/peers/call_signatures.h"
#include "auth/signatures/tls_signing_key.h"
#include "tests/support/scripted_tls_peer.h"
#include "tests/support/test_pki.h"

namespace hie::exchange {
namespace {

using hie::testing::CertSpec;
using hie::testing::Credential;
using hie::testing::httpAnswer;
using hie::testing::ReceivedRequest;
using hie::testing::ScriptedTlsPeer;
using hie::testing::TempDir;
using hie::testing::TestPki;
using hie::testing::writeFile;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::string kNode = "urn:oid:2.16.840.1.113883.3.7100";
const std::string kPeer = "urn:oid:2.16.840.1.113883.3.7200";
const std::string kBundle = R"({"resourceType":"Bundle","type":"searchset","total":0})";

std::int64_t now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

auth::PeerIdentity identityOf(const Credential& c) {
  auto id = auth::extractIdentity(c.cert());
  if (!id) throw std::runtime_error(id.error().internal);
  return *id;
}

// How the scripted peer answers.
enum class Answer {
  kUnsigned,          // no signature, no Content-Digest
  kSigned,            // signed with the peer's own key, covering the request's signature
  kWrongDigest,       // signed, but the body sent is not the one digested
  kBadSignature,      // signed, one bit of the signature flipped
  kOtherKey,          // signed with another member's certificate key (and its keyid)
  kUnsignedBadDigest, // no signature, a Content-Digest that does not match
  kStale,             // signed 10 minutes ago (created older than signatures.maxAge)
  kFuture,            // signed 10 minutes ahead (beyond signatures.clockSkew)
  kHangUp,            // closes without answering
};

class PeerClientSignatures : public ::testing::Test {
 protected:
  void SetUp() override {
    CertSpec node;
    node.commonName = "node-a";
    node.sanUris = {kNode};
    node.sanIps = {"127.0.0.1"};
    node.extendedKeyUsage = {"serverAuth", "clientAuth"};
    nodeCert = pki.leaf(node);
    material = load(nodeCert);
    CertSpec peerSpec;
    peerSpec.commonName = "node-b";
    peerSpec.sanUris = {kPeer};
    peerSpec.sanIps = {"127.0.0.1"};
    peerSpec.extendedKeyUsage = {"serverAuth", "clientAuth"};
    peerCert = pki.leaf(peerSpec);
    peerSpec.commonName = "other";
    peerSpec.sanUris = {"urn:oid:2.16.840.1.113883.3.7300"};
    otherCert = pki.leaf(peerSpec);
    peer = std::make_unique<ScriptedTlsPeer>(peerCert, pki.intermediate,
                                             [this](const ReceivedRequest& r) { return respond(r); });
    entry = auth::PeerEntry{kPeer, "https://127.0.0.1:" + std::to_string(peer->port())};
  }

  std::shared_ptr<const auth::TlsMaterial> load(const Credential& leaf) {
    auth::TlsFiles files;
    files.certificate = writeFile(dir.path(), leaf.sha256Fingerprint() + ".crt", pki.chainPem(leaf));
    files.privateKey = writeFile(dir.path(), leaf.sha256Fingerprint() + ".key", leaf.keyPem());
    files.trustBundle = writeFile(dir.path(), "ca.pem", pki.root.certPem());
    auto loaded = auth::loadTlsMaterial(files);
    if (!loaded) throw std::runtime_error(loaded.error().internal);
    return std::make_shared<const auth::TlsMaterial>(std::move(*loaded));
  }

  static auth::RegistrySnapshot registry(std::optional<auth::SignaturePolicy> peerPolicy) {
    auth::RegistrySnapshot snap;
    auth::Organization org;
    org.identifier = kPeer;
    org.name = "Node B";
    org.roles = {auth::Role::kMember};
    org.signaturePolicy = peerPolicy;
    snap.organizations.push_back(org);
    return snap;
  }

  // The peer verifies the request as a node would (with the key of the client certificate of the
  // handshake), then answers as told.
  std::string respond(const ReceivedRequest& r) {
    const auth::HttpMessage request = r.message();
    auto verified = auth::verifyRequest(request, r.body, r.client.publicKeyDer, r.client.certSha256,
                                        auth::SignatureWindow{now(), 300, 30});
    {
      std::lock_guard<std::mutex> lock(mutex);
      requestVerdicts.push_back(!verified ? verified.error().reason : *verified ? "verified" : "absent");
    }
    const Answer how = answer;
    if (how == Answer::kHangUp) return "";
    std::string requestId;
    for (const auto& [n, v] : r.fields) {
      if (n == "X-Request-Id") requestId = v;
    }
    auth::FieldList fields{{"Content-Type", "application/fhir+json"}, {"X-Request-Id", requestId}};
    if (how == Answer::kUnsigned) return httpAnswer(200, fields, kBundle);
    if (how == Answer::kUnsignedBadDigest) {
      fields.emplace_back("Content-Digest", auth::contentDigestField("something else"));
      return httpAnswer(200, fields, kBundle);
    }
    const Credential& signer = how == Answer::kOtherKey ? otherCert : peerCert;
    auto key = auth::MessageSigningKey::fromPem(signer.keyPem(), pki.chainPem(signer));
    if (!key) throw std::runtime_error(key.error().internal);
    const auth::SignatureEvidence* requestSignature = verified && *verified ? &(*verified)->evidence : nullptr;
    auth::HttpMessage response;
    response.status = 200;
    response.fields = fields;
    const std::int64_t created = how == Answer::kStale ? now() - 600 : how == Answer::kFuture ? now() + 600 : now();
    auto signedFields = auth::signResponse(*key, response, kBundle, request, requestSignature, created);
    if (!signedFields) throw std::runtime_error(signedFields.error().internal);
    for (auto [n, v] : signedFields->fields) {
      if (how == Answer::kBadSignature && n == "Signature") {
        const std::size_t colon = v.find(':');
        v[colon + 2] = v[colon + 2] == 'A' ? 'B' : 'A';
      }
      fields.emplace_back(n, v);
    }
    return httpAnswer(200, fields, how == Answer::kWrongDigest ? kBundle + " " : kBundle);
  }

  std::vector<std::string> verdicts() {
    std::lock_guard<std::mutex> lock(mutex);
    return requestVerdicts;
  }

  tl::expected<PeerResponse, PeerFailure> get(PeerClient& client, const std::string& requestId = "req-1") {
    return client.get(entry, path, {{"X-Purpose-Of-Use", "TREAT"}, {"X-Request-Id", requestId}},
                      Clock::now() + 10s);
  }

  TestPki pki = TestPki::create();
  TempDir dir;
  Credential nodeCert, peerCert, otherCert;
  std::shared_ptr<const auth::TlsMaterial> material;
  Counters counters;
  std::unique_ptr<ScriptedTlsPeer> peer;
  auth::PeerEntry entry;
  const std::string path = "/fhir/Patient?identifier=urn%3Aoid%3A1.2%7CNET-1&_count=100";
  std::atomic<Answer> answer{Answer::kSigned};
  std::mutex mutex;
  std::vector<std::string> requestVerdicts;
};

TEST_F(PeerClientSignatures, ARequestIsSignedAndItsSignedAnswerVerified) {
  auth::FixedOrganizationDirectory directory{registry(std::nullopt)};
  PeerClient client(material, directory, ClientOptions{}, counters);
  auto r = get(client);
  ASSERT_TRUE(r) << r.error().reason << ": " << r.error().detail;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, kBundle);
  ASSERT_EQ(verdicts(), std::vector<std::string>{"verified"}) << "the peer verified the request with the client certificate";
  EXPECT_EQ(peer->received().at(0).client.certSha256, identityOf(nodeCert).certSha256);

  const auto received = peer->received();
  ASSERT_EQ(received.size(), 1u);
  // The base covers what went on the wire: the Host field and the request-target as sent.
  const std::string target = "https://127.0.0.1:" + std::to_string(peer->port()) + path;
  EXPECT_EQ(received[0].message().targetUri, target);
  const auto& s = r->signatures;
  EXPECT_NE(s.requestSignatureBase.find("\"@method\": GET\n\"@target-uri\": " + target + "\n"), std::string::npos)
      << s.requestSignatureBase;
  EXPECT_NE(s.requestSignatureBase.find("\"x-purpose-of-use\": TREAT\n\"x-request-id\": req-1\n"), std::string::npos)
      << s.requestSignatureBase;
  const std::string keyId = identityOf(nodeCert).certSha256;
  EXPECT_NE(s.requestSignatureBase.find("keyid=\"" + keyId + "\""), std::string::npos) << s.requestSignatureBase;
  EXPECT_EQ(s.requestSignature.size(), 64u) << "ecdsa-p256-sha256: r||s";

  // The answer's evidence verifies later with the peer's certificate key alone.
  EXPECT_EQ(s.signatureCheck, "verified");
  ASSERT_FALSE(s.responseSignatureBase.empty());
  EXPECT_NE(s.responseSignatureBase.find("\"@status\": 200\n"), std::string::npos) << s.responseSignatureBase;
  EXPECT_NE(s.responseSignatureBase.find("\"signature\";req;key=\"sig1\": :"), std::string::npos)
      << "it names the request's signature: " << s.responseSignatureBase;
  auto peerKey = auth::MessageVerifyingKey::fromSpki(identityOf(peerCert).publicKeyDer);
  ASSERT_TRUE(peerKey);
  EXPECT_TRUE(peerKey->verify(s.responseSignatureBase, s.responseSignature));
  auto nodeKey = auth::MessageVerifyingKey::fromSpki(identityOf(nodeCert).publicKeyDer);
  ASSERT_TRUE(nodeKey);
  EXPECT_TRUE(nodeKey->verify(s.requestSignatureBase, s.requestSignature));
}

TEST_F(PeerClientSignatures, APostIsSignedWithItsContentDigest) {
  auth::FixedOrganizationDirectory directory{registry(std::nullopt)};
  PeerClient client(material, directory, ClientOptions{}, counters);
  auto r = client.post(entry, "/witness/add-checkpoint", "old 0\n\ncheckpoint\n", "text/plain; charset=utf-8",
                       {{"X-Request-Id", "post-1"}}, Clock::now() + 10s);
  ASSERT_TRUE(r) << r.error().reason << ": " << r.error().detail;
  EXPECT_EQ(verdicts(), std::vector<std::string>{"verified"});
  EXPECT_NE(r->signatures.requestSignatureBase.find("\"@method\": POST\n"), std::string::npos);
  EXPECT_NE(r->signatures.requestSignatureBase.find("\"content-digest\": sha-256=:"), std::string::npos)
      << r->signatures.requestSignatureBase;
  EXPECT_EQ(r->signatures.signatureCheck, "verified");
}

TEST_F(PeerClientSignatures, EveryAttemptIsSignedAnew) {
  answer = Answer::kHangUp;  // the first attempt gets no answer: the GET is retried
  auth::FixedOrganizationDirectory directory{registry(std::nullopt)};
  PeerClient client(material, directory, ClientOptions{}, counters);
  auto r = get(client);
  ASSERT_FALSE(r);
  const auto received = peer->received();
  ASSERT_EQ(received.size(), 2u) << "one retry; " << r.error().reason << ": " << r.error().detail;
  EXPECT_EQ(verdicts(), (std::vector<std::string>{"verified", "verified"}));
  auto signatureOf = [](const ReceivedRequest& q) {
    for (const auto& [n, v] : q.fields) {
      if (n == "Signature-Input") return v;
    }
    return std::string();
  };
  ASSERT_FALSE(signatureOf(received[0]).empty());
  EXPECT_NE(signatureOf(received[0]), signatureOf(received[1])) << "a new nonce for the new attempt";
  EXPECT_FALSE(r.error().signatures.requestSignatureBase.empty()) << "the failure keeps what was sent";
  EXPECT_EQ(r.error().signatures.signatureCheck, "") << "no answer came";
}

struct RefusedCase {
  Answer answer;
  std::string reason;
};

class PeerClientRefusedAnswers : public PeerClientSignatures, public ::testing::WithParamInterface<RefusedCase> {};

TEST_P(PeerClientRefusedAnswers, AnAnswerThatFailsItsCheckIsAFailedCallNotRetried) {
  answer = GetParam().answer;
  auth::FixedOrganizationDirectory directory{registry(std::nullopt)};  // verify-if-present
  PeerClient client(material, directory, ClientOptions{}, counters);
  auto r = get(client);
  ASSERT_FALSE(r) << "the body is not used: " << r->body;
  EXPECT_EQ(r.error().reason, "answer_" + GetParam().reason) << r.error().detail;
  EXPECT_EQ(r.error().signatures.signatureCheck, GetParam().reason);
  EXPECT_FALSE(r.error().signatures.requestSignatureBase.empty());
  EXPECT_EQ(peer->received().size(), 1u) << "a verdict is not retried";
  EXPECT_EQ(counters.peerCallFailures.value({"refused", "answer_" + GetParam().reason}), 1u);
}

INSTANTIATE_TEST_SUITE_P(Answers, PeerClientRefusedAnswers,
                         ::testing::Values(RefusedCase{Answer::kWrongDigest, "content_digest_mismatch"},
                                           RefusedCase{Answer::kBadSignature, "signature_invalid"},
                                           RefusedCase{Answer::kOtherKey, "signature_key_mismatch"},
                                           RefusedCase{Answer::kUnsignedBadDigest, "content_digest_mismatch"},
                                           RefusedCase{Answer::kStale, "signature_expired"},
                                           RefusedCase{Answer::kFuture, "signature_not_yet_valid"}));

TEST_F(PeerClientSignatures, ABadSignaturesClaimIsKeptForTheAudit) {
  answer = Answer::kBadSignature;
  auth::FixedOrganizationDirectory directory{registry(std::nullopt)};
  PeerClient client(material, directory, ClientOptions{}, counters);
  auto r = get(client);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().signatures.responseSignatureBase.find("\"@status\": 200\n"), std::string::npos)
      << "what the peer claims to have signed";
  EXPECT_FALSE(r.error().signatures.responseSignature.empty());
}

TEST_F(PeerClientSignatures, AnUnsignedAnswerPassesUnlessSignaturesAreRequired) {
  answer = Answer::kUnsigned;
  {
    auth::FixedOrganizationDirectory directory{registry(std::nullopt)};
    PeerClient client(material, directory, ClientOptions{}, counters);  // signatures.answers = verify-if-present
    auto r = get(client);
    ASSERT_TRUE(r) << r.error().reason;
    EXPECT_EQ(r->signatures.signatureCheck, "absent");
    EXPECT_TRUE(r->signatures.responseSignatureBase.empty());
  }
  {
    ClientOptions options;
    options.signatures.answers = auth::SignaturePolicy::kRequire;
    auth::FixedOrganizationDirectory directory{registry(std::nullopt)};
    PeerClient client(material, directory, options, counters);
    auto r = get(client);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().reason, "answer_signature_missing");
    EXPECT_EQ(r.error().signatures.signatureCheck, "signature_missing");
  }
  {
    // The organization's own policy wins over the node's.
    auth::FixedOrganizationDirectory directory{registry(auth::SignaturePolicy::kRequire)};
    PeerClient client(material, directory, ClientOptions{}, counters);
    auto r = get(client);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().reason, "answer_signature_missing");
  }
  {
    ClientOptions options;
    options.signatures.answers = auth::SignaturePolicy::kRequire;
    auth::FixedOrganizationDirectory directory{registry(auth::SignaturePolicy::kVerifyIfPresent)};
    PeerClient client(material, directory, options, counters);
    auto r = get(client);
    ASSERT_TRUE(r) << r.error().reason;
    EXPECT_EQ(r->signatures.signatureCheck, "absent");
  }
}

TEST_F(PeerClientSignatures, OffChecksNothing) {
  answer = Answer::kBadSignature;
  ClientOptions options;
  options.signatures.answers = auth::SignaturePolicy::kOff;
  auth::FixedOrganizationDirectory directory{registry(std::nullopt)};
  PeerClient client(material, directory, options, counters);
  auto r = get(client);
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->signatures.signatureCheck, "off");
  EXPECT_TRUE(r->signatures.responseSignature.empty()) << "not checked, not recorded";
}

TEST_F(PeerClientSignatures, SigningCanBeTurnedOff) {
  answer = Answer::kUnsigned;
  ClientOptions options;
  options.signatures.sign = false;
  auth::FixedOrganizationDirectory directory{registry(std::nullopt)};
  PeerClient client(material, directory, options, counters);
  auto r = get(client);
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(verdicts(), std::vector<std::string>{"absent"});
  EXPECT_TRUE(r->signatures.requestSignatureBase.empty());
  EXPECT_EQ(r->signatures.signatureCheck, "absent");
}

TEST_F(PeerClientSignatures, NewMaterialSignsWithItsKey) {
  auth::FixedOrganizationDirectory directory{registry(std::nullopt)};
  PeerClient client(material, directory, ClientOptions{}, counters);
  ASSERT_TRUE(get(client, "before"));
  CertSpec renewed;
  renewed.commonName = "node-a renewed";
  renewed.sanUris = {kNode};
  renewed.sanIps = {"127.0.0.1"};
  renewed.extendedKeyUsage = {"serverAuth", "clientAuth"};
  const Credential newCert = pki.leaf(renewed);
  client.useMaterial(load(newCert));
  auto r = get(client, "after");
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(verdicts(), (std::vector<std::string>{"verified", "verified"})) << "the new certificate, the new key";
  const std::string newKeyId = identityOf(newCert).certSha256;
  EXPECT_NE(r->signatures.requestSignatureBase.find("keyid=\"" + newKeyId + "\""), std::string::npos)
      << r->signatures.requestSignatureBase;
  auto key = auth::MessageVerifyingKey::fromSpki(identityOf(newCert).publicKeyDer);
  ASSERT_TRUE(key);
  EXPECT_TRUE(key->verify(r->signatures.requestSignatureBase, r->signatures.requestSignature));
}

TEST(TlsSigningKey, IsTheTlsCertificatesKey) {
  TestPki pki = TestPki::create();
  TempDir dir;
  CertSpec spec;
  spec.commonName = "rsa";
  spec.keyType = hie::testing::KeyType::kRsa2048;
  spec.extendedKeyUsage = {"clientAuth"};
  const Credential leaf = pki.leaf(spec);
  auth::TlsFiles files;
  files.certificate = writeFile(dir.path(), "n.crt", pki.chainPem(leaf));
  files.privateKey = writeFile(dir.path(), "n.key", leaf.keyPem());
  files.trustBundle = writeFile(dir.path(), "ca.pem", pki.root.certPem());
  auto material = auth::loadTlsMaterial(files);
  ASSERT_TRUE(material) << material.error().internal;
  auto key = auth::tlsSigningKey(*material);
  ASSERT_TRUE(key) << key.error().internal;
  EXPECT_EQ(key->algorithm(), auth::SignatureAlgorithm::kRsaPssSha512);
  EXPECT_EQ(key->keyId(), leaf.sha256Fingerprint());
  EXPECT_EQ(key->certificateChainPem(), pki.chainPem(leaf));
}

}  // namespace
}  // namespace hie::exchange

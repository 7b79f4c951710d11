// Signed requests and answers at the gate (issue 14), end to end: the real
// `hie-node serve`, real TLS, the throwaway PostgreSQL. A client signs with
// the key of its client certificate (RFC 9421); the node verifies against the
// certificate of the connection, remembers nonces, keeps the signer's chain,
// refuses with 401 (audited denied, no handler), and signs every answer.
#include <gtest/gtest.h>

#include <ctime>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <pqxx/pqxx>

#include "auth/identity/certificate_identity.h"
#include "auth/signatures/exchange_signatures.h"
#include "common/base64.h"
#include "tests/support/node_fixture.h"
#include "tests/support/signed_requests.h"

namespace hie::testing {
namespace {

const std::string kLakeside = "urn:oid:2.16.840.1.113883.3.7001";
const std::string kRiver = "urn:oid:2.16.840.1.113883.3.7002";
const std::string kPatientPath = "/fhir/Patient/p-ava";

RequestToSign readOf(const std::string& requestId, std::vector<std::string> components = {}) {
  RequestToSign r;
  r.target = kPatientPath;
  r.fields = {{"X-Purpose-Of-Use", "TREAT"}, {"X-Request-Id", requestId}};
  r.components = std::move(components);
  return r;
}

const std::vector<std::string> kAllComponents{"@method", "@target-uri", "x-purpose-of-use", "x-request-id"};

class SignedRequests : public ::testing::Test {
 protected:
  void SetUp() override {
    lakeside = f.memberCert({kLakeside}, "lakeside");
    river = f.memberCert({kRiver}, "river");
  }
  // Registry, grants and records; then serve with the given node policy.
  void start(const std::string& nodePolicy = "", const std::vector<std::string>& lakesideExtra = {}) {
    if (!nodePolicy.empty()) f.config["signatures.requests"] = nodePolicy;
    f.writeConfig();
    f.migrate();
    f.addOrg(kLakeside, "Lakeside Clinic", lakesideExtra);
    f.addOrg(kRiver, "River Hospital");
    for (const auto& org : {kLakeside, kRiver}) {
      auto g = f.cli({"grant", "add", "--org", org, "--resource", "Patient", "--action", "read", "--purpose", "TREAT"});
      ASSERT_EQ(g.exitCode, 0) << g.output;
    }
    auto r = f.cli({"records", "import", std::string(HIE_SOURCE_DIR) + "/config/demo/bundle.json"});
    ASSERT_EQ(r.exitCode, 0) << r.output;
    f.start();
  }
  HttpResult send(const Credential& who, const std::vector<std::string>& headerLines) {
    return f.get(who, kPatientPath, headerLines);
  }
  Poco::JSON::Object::Ptr leaf(const std::string& requestId) {
    pqxx::connection c(f.db.uri());
    pqxx::read_transaction tx(c);
    auto rows = tx.exec_params("SELECT leaf FROM audit_log_entries WHERE request_id = $1", requestId);
    if (rows.size() != 1) {
      ADD_FAILURE() << rows.size() << " entries for " << requestId;
      return new Poco::JSON::Object;
    }
    return Poco::JSON::Parser().parse(rows[0][0].as<std::string>()).extract<Poco::JSON::Object::Ptr>();
  }
  long long scalar(const std::string& sql) {
    pqxx::connection c(f.db.uri());
    pqxx::read_transaction tx(c);
    return tx.exec1(sql)[0].as<long long>();
  }
  // The answer as RFC 9421 sees it, from what arrived.
  static auth::HttpMessage answerOf(const HttpResult& r) {
    auth::HttpMessage m;
    m.status = r.status;
    for (const char* name : {"X-Request-Id", "Content-Digest", "Signature-Input", "Signature"}) {
      if (!r.header(name).empty()) m.fields.emplace_back(name, r.header(name));
    }
    return m;
  }
  static auth::HttpMessage requestOf(const std::vector<std::string>& headerLines) {
    auth::HttpMessage m;
    m.method = "GET";
    m.targetUri = "https://localhost" + kPatientPath;
    m.fields.emplace_back("Host", "localhost");
    for (const auto& line : headerLines) {
      const auto colon = line.find(": ");
      m.fields.emplace_back(line.substr(0, colon), line.substr(colon + 2));
    }
    return m;
  }
  auth::PeerIdentity identityOf(const Credential& c) {
    auto id = auth::extractIdentity(c.cert());
    if (!id) throw std::runtime_error(id.error().internal);
    return *id;
  }

  // 401, its headers and body, the audit entry (denied, the reason, no handler), the counter.
  void expectRefused(const HttpResult& r, const std::string& requestId, const std::string& reason) {
    SCOPED_TRACE(reason);
    ASSERT_FALSE(r.tlsRefused) << r.tlsError;
    EXPECT_EQ(r.status, 401) << r.head << r.body;
    EXPECT_NE(r.body.find("\"resourceType\":\"OperationOutcome\""), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("\"code\":\"security\""), std::string::npos) << r.body;
    EXPECT_EQ(r.header("WWW-Authenticate"), "HttpSignature realm=\"hie-node\", error=\"" + reason + "\"");
    EXPECT_EQ(r.header("Accept-Signature"),
              "sig1=(\"@method\" \"@target-uri\" \"x-purpose-of-use\" \"x-request-id\");created;expires;nonce;keyid");
    EXPECT_FALSE(r.header("Signature").empty()) << "refusals are signed too";
    auto entry = leaf(requestId);
    EXPECT_EQ(entry->getValue<std::string>("outcome"), "denied");
    EXPECT_EQ(entry->getValue<std::string>("outcomeReason"), reason);
    EXPECT_EQ(entry->getValue<std::string>("signatureCheck"), reason);
    EXPECT_EQ(entry->getValue<std::string>("action"), "rest");  // no handler: a read would say "read"
    EXPECT_EQ(entry->getValue<long long>("resultCount"), 0);
    EXPECT_EQ(entry->getValue<std::string>("entities"), "");
    EXPECT_EQ(entry->getValue<std::string>("requestSignature"), "");
    EXPECT_GE(f.node()->counter("hie_refusals_total{stage=\"signature\",reason=\"" + reason + "\"}"), 1u);
  }

  NodeFixture f;
  Credential lakeside, river;
};

TEST_F(SignedRequests, AnAcceptedSignedReadIsAuditedWithEvidenceThatVerifiesAndItsAnswerIsSigned) {
  start();
  const SignedRequest request = signRequestAs(lakeside, readOf("r-signed"));
  auto r = send(lakeside, request.headerLines);
  ASSERT_EQ(r.status, 200) << r.head << r.body << f.node()->log();

  auto entry = leaf("r-signed");
  EXPECT_EQ(entry->getValue<std::string>("outcome"), "success");
  EXPECT_EQ(entry->getValue<std::string>("action"), "read");
  EXPECT_EQ(entry->getValue<std::string>("signatureCheck"), "verified");
  const std::string base = auditDecoded(entry->getValue<std::string>("requestSignatureBase"));
  EXPECT_EQ(base, request.evidence.base);
  std::string signature;
  ASSERT_TRUE(base64Decode(entry->getValue<std::string>("requestSignature"), signature));
  EXPECT_EQ(signature, request.evidence.signature);
  // Evidence a third party can check: the stored base verifies with the certificate's key.
  const auth::PeerIdentity signer = identityOf(lakeside);
  EXPECT_EQ(entry->getValue<std::string>("certSha256"), signer.certSha256);
  auto key = auth::MessageVerifyingKey::fromSpki(signer.publicKeyDer);
  ASSERT_TRUE(key) << key.error().internal;
  EXPECT_TRUE(key->verify(base, signature));
  EXPECT_FALSE(key->verify(base + " ", signature));

  // The signer's chain, as presented, and the node's own are kept.
  EXPECT_EQ(scalar("SELECT count(*) FROM certificates WHERE sha256 = '" + signer.certSha256 +
                   "' AND chain_pem = " + pqxx::connection(f.db.uri()).quote(f.pki.chainPem(lakeside))),
            1);
  EXPECT_EQ(scalar("SELECT count(*) FROM certificates WHERE sha256 = '" + f.serverCert.sha256Fingerprint() + "'"), 1);
  EXPECT_EQ(scalar("SELECT count(*) FROM request_nonces WHERE key_id = '" + signer.certSha256 + "'"), 1);

  // The answer verifies against the node's certificate and covers the request's signature.
  const auth::PeerIdentity node = identityOf(f.serverCert);
  EXPECT_EQ(r.serverCertSha256, node.certSha256);
  const auth::SignatureWindow window{static_cast<std::int64_t>(std::time(nullptr)), 300, 30};
  auto answer = auth::verifyResponse(answerOf(r), r.body, requestOf(request.headerLines), &request.evidence,
                                     node.publicKeyDer, node.certSha256, window);
  ASSERT_TRUE(answer) << answer.error().reason << ": " << answer.error().detail << "\n" << r.head;
  ASSERT_TRUE(*answer) << r.head;
  EXPECT_NE((*answer)->base.find("\"signature\";req;key=\"sig1\": "), std::string::npos) << (*answer)->base;
  EXPECT_EQ(auditDecoded(entry->getValue<std::string>("responseSignatureBase")), (*answer)->base);
  std::string answerSignature;
  ASSERT_TRUE(base64Decode(entry->getValue<std::string>("responseSignature"), answerSignature));
  EXPECT_EQ(answerSignature, (*answer)->signature);
  // What arrived is what was signed: a changed body no longer verifies.
  EXPECT_FALSE(auth::verifyResponse(answerOf(r), r.body + "x", requestOf(request.headerLines), &request.evidence,
                                    node.publicKeyDer, node.certSha256, window));
  EXPECT_EQ(f.node()->counter("hie_request_signature_checks_total{outcome=\"verified\"}"), 1u);
}

TEST_F(SignedRequests, UnsignedRequestsPassUnderTheDefaultAndTheirAnswersAreSignedToo) {
  start();
  auto r = send(lakeside, {"X-Purpose-Of-Use: TREAT", "X-Request-Id: r-plain"});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(leaf("r-plain")->getValue<std::string>("signatureCheck"), "absent");
  const auth::PeerIdentity node = identityOf(f.serverCert);
  const auth::SignatureWindow window{static_cast<std::int64_t>(std::time(nullptr)), 300, 30};
  auto answer = auth::verifyResponse(answerOf(r), r.body, requestOf({}), nullptr, node.publicKeyDer,
                                     node.certSha256, window);
  ASSERT_TRUE(answer) << answer.error().reason;
  EXPECT_TRUE(*answer);
  EXPECT_EQ(f.node()->counter("hie_request_signature_checks_total{outcome=\"absent\"}"), 1u);
}

TEST_F(SignedRequests, EachBadSignatureIsRefusedAuditedAndNeverServed) {
  start();
  const std::int64_t now = std::time(nullptr);
  // Signed with another certificate's key (its keyid).
  expectRefused(send(lakeside, signRequestAs(river, readOf("r-other-key")).headerLines), "r-other-key",
                "signature_key_mismatch");
  // Another key under the presented certificate's keyid.
  RequestToSign forged = readOf("r-forged", kAllComponents);
  forged.keyId = identityOf(lakeside).certSha256;
  expectRefused(send(lakeside, signRequestAs(river, forged).headerLines), "r-forged", "signature_invalid");
  // One byte of the signature flipped.
  expectRefused(send(lakeside, withFlippedSignatureByte(signRequestAs(lakeside, readOf("r-flipped")).headerLines)),
                "r-flipped", "signature_invalid");
  // The purpose of use not covered.
  expectRefused(send(lakeside, signRequestAs(lakeside, readOf("r-partial", {"@method", "@target-uri", "x-request-id"}))
                                   .headerLines),
                "r-partial", "signature_components_missing");
  // created too old, and in the future.
  RequestToSign old = readOf("r-old", kAllComponents);
  old.created = now - 600;
  old.expires = now + 60;
  expectRefused(send(lakeside, signRequestAs(lakeside, old).headerLines), "r-old", "signature_expired");
  RequestToSign future = readOf("r-future", kAllComponents);
  future.created = now + 300;
  future.expires = now + 360;
  expectRefused(send(lakeside, signRequestAs(lakeside, future).headerLines), "r-future", "signature_not_yet_valid");
  // The same signed request twice: the second is a replay.
  const SignedRequest once = signRequestAs(lakeside, readOf("r-replayed"));
  ASSERT_EQ(send(lakeside, once.headerLines).status, 200);
  auto replay = send(lakeside, once.headerLines);
  EXPECT_EQ(replay.status, 401);
  EXPECT_EQ(replay.header("WWW-Authenticate"), "HttpSignature realm=\"hie-node\", error=\"signature_replayed\"");
  pqxx::connection c(f.db.uri());
  pqxx::read_transaction tx(c);
  auto outcomes = tx.exec(
      "SELECT outcome, coalesce(leaf::jsonb ->> 'outcomeReason', ''), leaf::jsonb ->> 'action' FROM audit_log_entries "
      "WHERE request_id = 'r-replayed' ORDER BY idx");
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0][0].as<std::string>(), "success");
  EXPECT_EQ(outcomes[0][2].as<std::string>(), "read");
  EXPECT_EQ(outcomes[1][0].as<std::string>(), "denied");
  EXPECT_EQ(outcomes[1][1].as<std::string>(), "signature_replayed");
  EXPECT_EQ(outcomes[1][2].as<std::string>(), "rest");
  // Refused signatures left nothing behind: one nonce, and no chain but the replayed one's signer's
  // and the node's own.
  EXPECT_EQ(scalar("SELECT count(*) FROM request_nonces"), 1);
  EXPECT_EQ(scalar("SELECT count(*) FROM certificates"), 2);
}

TEST_F(SignedRequests, TheNodeCanRequireSignatures) {
  start("require");
  expectRefused(send(lakeside, {"X-Purpose-Of-Use: TREAT", "X-Request-Id: r-unsigned"}), "r-unsigned",
                "signature_missing");
  EXPECT_EQ(send(lakeside, signRequestAs(lakeside, readOf("r-signed")).headerLines).status, 200);
}

TEST_F(SignedRequests, AnOrganizationCanBeRequiredToSign) {
  start("", {"--signatures", "require"});
  expectRefused(send(lakeside, {"X-Purpose-Of-Use: TREAT", "X-Request-Id: r-lakeside"}), "r-lakeside",
                "signature_missing");
  // Another organization follows the node's default.
  EXPECT_EQ(send(river, {"X-Purpose-Of-Use: TREAT", "X-Request-Id: r-river"}).status, 200);
  // And back to the node's default, without a restart (within the registry's poll).
  auto r = f.cli({"org", "signatures", kLakeside, "default"});
  ASSERT_EQ(r.exitCode, 0) << r.output;
  int n = 0;
  EXPECT_TRUE(waitFor(
      [&] {
        return send(lakeside, {"X-Purpose-Of-Use: TREAT", "X-Request-Id: r-again-" + std::to_string(++n)}).status == 200;
      },
      std::chrono::seconds(10)));
}

TEST_F(SignedRequests, AnOrganizationSetToOffIsNotAskedEvenWhenTheNodeRequires) {
  start("require", {"--signatures", "off"});
  auto r = send(lakeside, {"X-Purpose-Of-Use: TREAT", "X-Request-Id: r-off"});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(leaf("r-off")->getValue<std::string>("signatureCheck"), "off");
  expectRefused(send(river, {"X-Purpose-Of-Use: TREAT", "X-Request-Id: r-river"}), "r-river", "signature_missing");
}

}  // namespace
}  // namespace hie::testing

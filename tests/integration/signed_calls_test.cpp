// Signed calls between nodes (issue 14, client side): node A signs its
// /exchange fan-out and `hie-node fetch` requests with its TLS certificate's
// key, B and C verify them, A checks their signed answers, and A's peer-call
// audit entries hold what an auditor needs to check both signatures later
// with the two certificates alone. A scripted peer D answers what a real
// node never would (a digest that does not match, a bad signature, no
// signature), which A must refuse as a failed call.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>

#include <pqxx/pqxx>

#include "auth/identity/certificate_identity.h"
#include "auth/signatures/exchange_signatures.h"
#include "common/base64.h"
#include "tests/support/node_fixture.h"
#include "tests/support/scripted_tls_peer.h"

namespace hie::testing {
namespace {

const std::string kOrgA = "urn:oid:2.16.840.1.113883.3.7100";
const std::string kLocalA = "urn:oid:2.16.840.1.113883.3.7101";
const std::string kOrgB = "urn:oid:2.16.840.1.113883.3.7200";
const std::string kOrgC = "urn:oid:2.16.840.1.113883.3.7300";
const std::string kOrgD = "urn:oid:2.16.840.1.113883.3.7400";
const std::string kNet = "urn:oid:2.16.840.1.113883.3.7000.1";
const std::string kBundle = R"({"resourceType":"Bundle","type":"searchset","total":0})";

void ok(const CommandResult& r) { ASSERT_EQ(r.exitCode, 0) << r.output; }

// The audit's string encoding undone (docs/audit-format.md, "Strings"): %XX is the byte XX.
std::string unprintable(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// One audit entry's signature evidence, decoded.
struct Evidence {
  std::string requestBase, requestSignature, responseBase, responseSignature, check, outcome, reason;
};

// The one entry of node n matching where (SQL over audit_log_entries).
Evidence evidence(const NodeFixture& n, const std::string& where) {
  pqxx::connection conn(n.db.uri());
  pqxx::read_transaction tx(conn);
  auto rows = tx.exec("SELECT leaf::jsonb ->> 'requestSignatureBase', leaf::jsonb ->> 'requestSignature', "
                      "leaf::jsonb ->> 'responseSignatureBase', leaf::jsonb ->> 'responseSignature', "
                      "leaf::jsonb ->> 'signatureCheck', outcome, outcome_reason FROM audit_log_entries WHERE " +
                      where);
  if (rows.size() != 1) throw std::runtime_error(std::to_string(rows.size()) + " audit entries where " + where);
  auto text = [&](int i) { return rows[0][i].is_null() ? std::string() : rows[0][i].as<std::string>(); };
  Evidence e;
  e.requestBase = unprintable(text(0));
  if (!base64Decode(text(1), e.requestSignature)) throw std::runtime_error("requestSignature is not base64");
  e.responseBase = unprintable(text(2));
  if (!base64Decode(text(3), e.responseSignature)) throw std::runtime_error("responseSignature is not base64");
  e.check = text(4);
  e.outcome = text(5);
  e.reason = text(6);
  return e;
}

// Checks a signature with nothing but the signer's certificate.
bool signedBy(const Credential& cert, const std::string& base, const std::string& signature) {
  auto id = auth::extractIdentity(cert.cert());
  if (!id) return false;
  auto key = auth::MessageVerifyingKey::fromSpki(id->publicKeyDer);
  return key && key->verify(base, signature);
}

std::int64_t now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class SignedCalls : public ::testing::Test {
 protected:
  void SetUp() override {
    a.config["exchange.deadline"] = "5000";
    a.config["client.readTimeout"] = "5000";
    a.writeConfig();
    for (NodeFixture* n : {&a, &b, &c}) {
      n->migrate();
      for (const auto& [org, name] : std::vector<std::pair<std::string, std::string>>{
               {kOrgA, "Node A Hospital"}, {kOrgB, "Node B Clinic"}, {kOrgC, "Node C Lab"}}) {
        n->addOrg(org, name);
      }
    }
    a.addOrg(kLocalA, "Node A clinical system", {"--role", "local"});
    for (NodeFixture* n : {&b, &c}) {
      ok(n->cli({"grant", "add", "--org", kOrgA, "--resource", "Patient,Observation", "--action", "read,search",
                 "--purpose", "TREAT"}));
      ok(n->cli({"records", "import", std::string(HIE_SOURCE_DIR) + "/config/demo/bundle.json"}));
    }
    b.start();
    c.start();
    ok(a.cli({"peer", "add", "--org", kOrgB, "--url", "https://127.0.0.1:" + std::to_string(b.node()->port())}));
    ok(a.cli({"peer", "add", "--org", kOrgC, "--url", "https://localhost:" + std::to_string(c.node()->port())}));
    local = a.memberCert({kLocalA});
  }

  HttpResult ask(const std::string& requestId) {
    return a.get(local, "/exchange/Observation?patient.identifier=" + kNet + "%7CNET-1001",
                 {"X-Purpose-Of-Use: TREAT", "X-Request-Id: " + requestId});
  }

  // D: a scripted member node at 127.0.0.1 that verifies A's request and answers as told.
  enum class Answer { kSigned, kWrongDigest, kBadSignature, kUnsigned };
  void startD() {
    a.addOrg(kOrgD, "Node D (scripted)");
    CertSpec spec;
    spec.commonName = "node-d";
    spec.sanUris = {kOrgD};
    spec.sanIps = {"127.0.0.1"};
    spec.extendedKeyUsage = {"serverAuth", "clientAuth"};
    dCert = pki.leaf(spec);
    d = std::make_unique<ScriptedTlsPeer>(dCert, pki.intermediate, [this](const ReceivedRequest& r) { return answerD(r); });
    ok(a.cli({"peer", "add", "--org", kOrgD, "--url", "https://127.0.0.1:" + std::to_string(d->port())}));
  }

  std::string answerD(const ReceivedRequest& r) {
    const auth::HttpMessage request = r.message();
    auto verified = auth::verifyRequest(request, r.body, r.client.publicKeyDer, r.client.certSha256,
                                        auth::SignatureWindow{now(), 300, 30});
    {
      std::lock_guard<std::mutex> lock(mutex);
      dVerdicts.push_back(!verified ? verified.error().reason : *verified ? "verified" : "absent");
    }
    std::string requestId;
    for (const auto& [name, value] : r.fields) {
      if (name == "X-Request-Id") requestId = value;
    }
    auth::FieldList fields{{"Content-Type", "application/fhir+json"}, {"X-Request-Id", requestId}};
    const Answer how = dAnswer;
    if (how == Answer::kUnsigned) return httpAnswer(200, fields, kBundle);
    auto key = auth::MessageSigningKey::fromPem(dCert.keyPem(), pki.chainPem(dCert));
    auth::HttpMessage response;
    response.status = 200;
    response.fields = fields;
    auto signedFields = auth::signResponse(*key, response, kBundle, request,
                                           verified && *verified ? &(*verified)->evidence : nullptr, now());
    for (auto [name, value] : signedFields->fields) {
      if (how == Answer::kBadSignature && name == "Signature") {
        const std::size_t colon = value.find(':');
        value[colon + 2] = value[colon + 2] == 'A' ? 'B' : 'A';
      }
      fields.emplace_back(name, value);
    }
    return httpAnswer(200, fields, how == Answer::kWrongDigest ? kBundle + "\n" : kBundle);
  }

  std::vector<std::string> verdictsOfD() {
    std::lock_guard<std::mutex> lock(mutex);
    return dVerdicts;
  }

  std::string peerCall(const std::string& requestId, const std::string& peer) {
    return "request_id = '" + requestId + "' AND action = 'peer-call' AND leaf::jsonb ->> 'peerOrganization' = '" +
           peer + "'";
  }

  TestPki pki = TestPki::create();
  NodeFixture a{pki, "node-a", kOrgA};
  NodeFixture b{pki, "node-b", kOrgB};
  NodeFixture c{pki, "node-c", kOrgC};
  Credential local;
  Credential dCert;
  std::unique_ptr<ScriptedTlsPeer> d;
  std::atomic<Answer> dAnswer{Answer::kSigned};
  std::mutex mutex;
  std::vector<std::string> dVerdicts;
};

TEST_F(SignedCalls, AsFanOutIsSignedAndItsPeersSignedAnswersVerifyOffline) {
  a.start();
  auto r = ask("sig-1");
  ASSERT_EQ(r.status, 200) << r.body << a.node()->log();
  EXPECT_TRUE(contains(r.body, "\"source\":\"" + kOrgB + "\"")) << r.body;
  EXPECT_TRUE(contains(r.body, "\"source\":\"" + kOrgC + "\"")) << r.body;
  for (const auto& [peer, node] : std::vector<std::pair<std::string, NodeFixture*>>{{kOrgB, &b}, {kOrgC, &c}}) {
    SCOPED_TRACE(peer);
    const Evidence sent = evidence(a, peerCall("sig-1", peer));
    EXPECT_EQ(sent.outcome, "success");
    // What A sent: GET of the peer's URL as it went on the wire, for that purpose, under that id.
    const std::string host = peer == kOrgB ? "127.0.0.1" : "localhost";
    EXPECT_TRUE(contains(sent.requestBase, "\"@method\": GET\n\"@target-uri\": https://" + host + ":" +
                                               std::to_string(node->node()->port()) + "/fhir/Observation?"))
        << sent.requestBase;
    EXPECT_TRUE(contains(sent.requestBase, "\"x-purpose-of-use\": TREAT\n\"x-request-id\": sig-1\n")) << sent.requestBase;
    EXPECT_TRUE(signedBy(a.serverCert, sent.requestBase, sent.requestSignature)) << "A's certificate key signed it";
    // The peer verified the same signature of the same request.
    const Evidence received = evidence(*node, "request_id = 'sig-1' AND organization = '" + kOrgA + "'");
    EXPECT_EQ(received.check, "verified");
    EXPECT_EQ(received.requestBase, sent.requestBase);
    EXPECT_EQ(received.requestSignature, sent.requestSignature);
    // What the peer answered, signed with its certificate key and bound to A's request's signature.
    EXPECT_EQ(sent.check, "verified");
    EXPECT_TRUE(contains(sent.responseBase, "\"@status\": 200\n")) << sent.responseBase;
    EXPECT_TRUE(contains(sent.responseBase, "\"signature\";req;key=\"sig1\": :" + base64Encode(sent.requestSignature) + ":"))
        << sent.responseBase;
    EXPECT_TRUE(signedBy(node->serverCert, sent.responseBase, sent.responseSignature));
    EXPECT_FALSE(signedBy(a.serverCert, sent.responseBase, sent.responseSignature));
    EXPECT_EQ(received.responseBase, sent.responseBase) << "the peer audited the answer it signed";
  }
  for (NodeFixture* n : {&a, &b, &c}) {
    ASSERT_EQ(n->node()->stop(), 0) << n->node()->log();
    auto v = n->cli({"audit", "verify"});
    EXPECT_EQ(v.exitCode, 0) << v.output;
  }
}

TEST_F(SignedCalls, AnAnswerThatDoesNotVerifyIsAFailedPeerCall) {
  startD();
  a.start();
  struct Case {
    Answer answer;
    std::string id, reason;
  };
  for (const Case& k : {Case{Answer::kSigned, "d-ok", ""}, Case{Answer::kWrongDigest, "d-digest", "answer_content_digest_mismatch"},
                        Case{Answer::kBadSignature, "d-sig", "answer_signature_invalid"}}) {
    SCOPED_TRACE(k.id);
    dAnswer = k.answer;
    auto r = ask(k.id);
    ASSERT_EQ(r.status, 200) << r.body << a.node()->log();
    EXPECT_TRUE(contains(r.body, "\"source\":\"" + kOrgB + "\"")) << "the other peers are not spoiled: " << r.body;
    const Evidence e = evidence(a, peerCall(k.id, kOrgD));
    EXPECT_FALSE(e.requestBase.empty());
    if (k.reason.empty()) {
      EXPECT_EQ(e.outcome, "success");
      EXPECT_EQ(e.check, "verified");
      EXPECT_TRUE(signedBy(dCert, e.responseBase, e.responseSignature));
      continue;
    }
    EXPECT_TRUE(contains(r.body, "peer " + kOrgD + ": " + k.reason)) << r.body;
    EXPECT_EQ(e.outcome, "denied");
    EXPECT_EQ(e.reason, k.reason);
    EXPECT_EQ(e.check, k.reason.substr(std::string("answer_").size()));
  }
  EXPECT_EQ(verdictsOfD(), (std::vector<std::string>{"verified", "verified", "verified"}))
      << "D verified every request with A's certificate, and none was retried";
}

TEST_F(SignedCalls, UnsignedAnswersPassUnlessRequired) {
  startD();
  dAnswer = Answer::kUnsigned;
  a.start();
  ASSERT_EQ(ask("u-1").status, 200);
  Evidence e = evidence(a, peerCall("u-1", kOrgD));
  EXPECT_EQ(e.outcome, "success");
  EXPECT_EQ(e.check, "absent") << "signatures.answers defaults to verify-if-present";
  EXPECT_TRUE(e.responseBase.empty());

  ASSERT_EQ(a.node()->stop(), 0);
  a.config["signatures.answers"] = "require";
  a.writeConfig();
  a.start();
  auto r = ask("u-2");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(contains(r.body, "peer " + kOrgD + ": answer_signature_missing")) << r.body;
  e = evidence(a, peerCall("u-2", kOrgD));
  EXPECT_EQ(e.outcome, "denied");
  EXPECT_EQ(e.reason, "answer_signature_missing");
  EXPECT_EQ(evidence(a, peerCall("u-2", kOrgB)).check, "verified") << "B signs its answers";
}

TEST_F(SignedCalls, FetchRecordsTheEvidence) {
  auto r = a.cli({"fetch", "--peer", kOrgB, "--patient-identifier", kNet + "|NET-1001", "--purpose", "TREAT"});
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const Evidence e = evidence(a, "action = 'peer-call' AND leaf::jsonb ->> 'peerOrganization' = '" + kOrgB + "'");
  EXPECT_TRUE(contains(e.requestBase, "\"@target-uri\": https://127.0.0.1:" + std::to_string(b.node()->port()) +
                                          "/fhir/Patient?identifier="))
      << e.requestBase;
  EXPECT_TRUE(signedBy(a.serverCert, e.requestBase, e.requestSignature));
  EXPECT_EQ(e.check, "verified");
  EXPECT_TRUE(signedBy(b.serverCert, e.responseBase, e.responseSignature));

  startD();
  dAnswer = Answer::kWrongDigest;
  auto refused = a.cli({"fetch", "--peer", kOrgD, "--patient-identifier", kNet + "|NET-1001"});
  EXPECT_EQ(refused.exitCode, 1);
  EXPECT_TRUE(contains(refused.output, "failed (answer_content_digest_mismatch)")) << refused.output;
  EXPECT_FALSE(contains(refused.output, "searchset")) << "the answer is not printed";
  const Evidence d = evidence(a, "action = 'peer-call' AND leaf::jsonb ->> 'peerOrganization' = '" + kOrgD + "'");
  EXPECT_EQ(d.outcome, "denied");
  EXPECT_EQ(d.check, "content_digest_mismatch");
  EXPECT_TRUE(signedBy(a.serverCert, d.requestBase, d.requestSignature));
}

}  // namespace
}  // namespace hie::testing

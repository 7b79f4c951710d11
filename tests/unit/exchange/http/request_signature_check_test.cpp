// The gate's check of signed requests without sockets: policy (node and
// organization), verification against the connection's certificate, nonces,
// the chain archive, fail-closed stores, and that a refused signature never
// reaches a handler. Keys come from the test PKI; signing is auth::signRequest.
#include "exchange/http/request_signature_check.h"

#include <gtest/gtest.h>

#include <ctime>
#include <map>
#include <set>

#include "audit/witnessed_log.h"
#include "auth/identity/certificate_identity.h"
#include "exchange/http/audit_events.h"
#include "exchange/http/reply_signer.h"
#include "exchange/http/request_gate.h"
#include "tests/support/memory_audit_reader.h"
#include "tests/support/memory_record_store.h"
#include "tests/support/signed_requests.h"

namespace hie::exchange {
namespace {

using hie::testing::Credential;
using hie::testing::RequestToSign;
using hie::testing::signRequestAs;

const std::string kLakeside = "urn:oid:2.16.840.1.113883.3.7001";

class FakeNonces : public NonceRegistry {
 public:
  Result<bool> remember(const std::string& keyId, const std::string& nonce, std::int64_t rememberUntil,
                        std::int64_t) override {
    if (down) return fail(ErrorCode::kUnavailable, "database down");
    lastRememberUntil = rememberUntil;
    return seen.insert(keyId + "/" + nonce).second;
  }
  std::set<std::string> seen;
  std::int64_t lastRememberUntil = 0;
  bool down = false;
};

class FakeArchive : public CertificateArchive {
 public:
  Result<void> keep(const std::string& sha256, const std::string& chainPem) override {
    if (down) return fail(ErrorCode::kUnavailable, "database down");
    kept.emplace(sha256, chainPem);
    return {};
  }
  std::map<std::string, std::string> kept;
  bool down = false;
};

class FixedDirectory : public auth::OrganizationDirectory {
 public:
  explicit FixedDirectory(std::vector<auth::Organization> orgs, std::vector<auth::Grant> grants) {
    auto snap = std::make_shared<auth::RegistrySnapshot>();
    snap->organizations = std::move(orgs);
    for (auto& g : grants) snap->grantsByOrganization[g.organization].push_back(std::move(g));
    orgs_ = snap;
  }
  auth::OrganizationSnapshot snapshot() const override { return orgs_; }

 private:
  auth::OrganizationSnapshot orgs_;
};

class RequestSignatureCheckTest : public ::testing::Test {
 protected:
  RequestSignatureCheckTest() {
    hie::testing::CertSpec spec;
    spec.commonName = "lakeside";
    spec.sanUris = {kLakeside};
    spec.extendedKeyUsage = {"clientAuth"};
    lakeside = pki.leaf(spec);
    spec.commonName = "other";
    other = pki.leaf(spec);
    auto id = auth::extractIdentity(lakeside.cert());
    if (!id) throw std::runtime_error(id.error().internal);
    peer = *id;
    peer.chainPem = pki.chainPem(lakeside);
    organization.identifier = kLakeside;
    organization.roles = {auth::Role::kMember};
  }

  // GET target as tlsGet sends it, with the fields a signed request carries.
  HttpCall call(const std::string& target, const std::vector<std::string>& headerLines) const {
    HttpCall c;
    c.method = "GET";
    c.target = target;
    c.path = target.substr(0, target.find('?'));
    c.requestId = "r-1";
    c.headers.emplace_back("Host", "localhost");
    for (const auto& line : headerLines) {
      const auto colon = line.find(": ");
      c.headers.emplace_back(line.substr(0, colon), line.substr(colon + 2));
    }
    return c;
  }
  HttpCall signedCall(const Credential& signer, const std::string& target = "/fhir/Patient/p1") const {
    RequestToSign r;
    r.target = target;
    r.fields = {{"X-Purpose-Of-Use", "TREAT"}, {"X-Request-Id", "r-1"}};
    return call(target, signRequestAs(signer, r).headerLines);
  }
  RequestSignatureCheck checker(auth::SignaturePolicy node) {
    settings.requests = node;
    return RequestSignatureCheck(settings, nonces, archive, counters);
  }

  hie::testing::TestPki pki = hie::testing::TestPki::create();
  Credential lakeside, other;
  auth::PeerIdentity peer;
  auth::Organization organization;
  auth::SignatureSettings settings;
  FakeNonces nonces;
  FakeArchive archive;
  Counters counters;
};

RequestToSign toSign(const std::string& target, std::vector<std::pair<std::string, std::string>> fields,
                     std::vector<std::string> components = {}) {
  RequestToSign r;
  r.target = target;
  r.fields = std::move(fields);
  r.components = std::move(components);
  return r;
}

void expectRefusal(const RequestSignatureCheck::Outcome& out, const std::string& reason) {
  ASSERT_TRUE(out.refusal) << "expected " << reason << ", got check " << out.signature.check;
  EXPECT_EQ(out.refusal->status, 401);
  EXPECT_EQ(out.refusal->refusalReason, reason);
  EXPECT_EQ(out.signature.check, reason);
  EXPECT_FALSE(out.signature.evidence);
  EXPECT_NE(out.refusal->body.find("\"code\":\"security\""), std::string::npos) << out.refusal->body;
  std::map<std::string, std::string> headers(out.refusal->headers.begin(), out.refusal->headers.end());
  EXPECT_EQ(headers["WWW-Authenticate"], "HttpSignature realm=\"hie-node\", error=\"" + reason + "\"");
  EXPECT_EQ(headers["Accept-Signature"],
            "sig1=(\"@method\" \"@target-uri\" \"x-purpose-of-use\" \"x-request-id\");created;expires;nonce;keyid");
}

TEST_F(RequestSignatureCheckTest, AVerifiedSignatureIsRememberedArchivedAndKeptAsEvidence) {
  auto check = checker(auth::SignaturePolicy::kVerifyIfPresent);
  const auto out = check.check(signedCall(lakeside), peer, organization);
  ASSERT_FALSE(out.refusal) << out.refusal->refusalReason << " " << out.refusal->body;
  EXPECT_EQ(out.signature.check, "verified");
  ASSERT_TRUE(out.signature.evidence);
  EXPECT_EQ(out.signature.evidence->keyId, peer.certSha256);
  EXPECT_NE(out.signature.evidence->base.find("\"@target-uri\": https://localhost/fhir/Patient/p1\n"),
            std::string::npos)
      << out.signature.evidence->base;
  EXPECT_EQ(nonces.seen.size(), 1u);
  EXPECT_GT(nonces.lastRememberUntil, static_cast<std::int64_t>(std::time(nullptr)));
  ASSERT_EQ(archive.kept.count(peer.certSha256), 1u);
  EXPECT_EQ(archive.kept[peer.certSha256], peer.chainPem);
  EXPECT_EQ(counters.requestSignatureChecks.value({"verified"}), 1u);
}

TEST_F(RequestSignatureCheckTest, UnsignedPassesUnlessRequired) {
  const HttpCall unsigned_ = call("/fhir/Patient/p1", {"X-Request-Id: r-1"});
  auto lenient = checker(auth::SignaturePolicy::kVerifyIfPresent);
  auto out = lenient.check(unsigned_, peer, organization);
  EXPECT_FALSE(out.refusal);
  EXPECT_EQ(out.signature.check, "absent");
  auto strict = checker(auth::SignaturePolicy::kRequire);
  expectRefusal(strict.check(unsigned_, peer, organization), "signature_missing");
  EXPECT_EQ(counters.requestSignatureChecks.value({"absent"}), 1u);
  EXPECT_EQ(counters.requestSignatureChecks.value({"signature_missing"}), 1u);
  EXPECT_EQ(counters.refusals.value({"signature", "signature_missing"}), 1u);
}

TEST_F(RequestSignatureCheckTest, TheOrganizationsPolicyWinsOverTheNodes) {
  const HttpCall unsigned_ = call("/fhir/Patient/p1", {"X-Request-Id: r-1"});
  auto strict = checker(auth::SignaturePolicy::kRequire);
  organization.signaturePolicy = auth::SignaturePolicy::kOff;
  auto off = strict.check(unsigned_, peer, organization);
  EXPECT_FALSE(off.refusal);
  EXPECT_EQ(off.signature.check, "off");
  // off: not even a bad signature is looked at.
  auto bad = strict.check(call("/fhir/Patient/p1", hie::testing::withFlippedSignatureByte(
                                                        signRequestAs(lakeside, toSign("/fhir/Patient/p1", {{"X-Request-Id", "r-1"}}))
                                                            .headerLines)),
                          peer, organization);
  EXPECT_FALSE(bad.refusal);
  EXPECT_TRUE(nonces.seen.empty());

  auto lenient = checker(auth::SignaturePolicy::kVerifyIfPresent);
  organization.signaturePolicy = auth::SignaturePolicy::kRequire;
  expectRefusal(lenient.check(unsigned_, peer, organization), "signature_missing");
}

TEST_F(RequestSignatureCheckTest, EachRefusalHasItsReason) {
  auto check = checker(auth::SignaturePolicy::kVerifyIfPresent);
  const std::vector<std::pair<std::string, std::string>> fields{{"X-Purpose-Of-Use", "TREAT"}, {"X-Request-Id", "r-1"}};
  const std::string target = "/fhir/Patient/p1";
  const std::int64_t now = std::time(nullptr);

  // Another certificate's key (and so its keyid).
  expectRefusal(check.check(signedCall(other), peer, organization), "signature_key_mismatch");
  // Another key under the presented certificate's keyid.
  RequestToSign forged = toSign(target, fields, {"@method", "@target-uri", "x-purpose-of-use", "x-request-id"});
  forged.keyId = peer.certSha256;
  expectRefusal(check.check(call(target, signRequestAs(other, forged).headerLines), peer, organization),
                "signature_invalid");
  // One byte of the signature flipped.
  RequestToSign plain = toSign(target, fields);
  expectRefusal(check.check(call(target, hie::testing::withFlippedSignatureByte(signRequestAs(lakeside, plain).headerLines)),
                            peer, organization),
                "signature_invalid");
  // Signed for another target than the one requested.
  RequestToSign elsewhere = toSign("/fhir/Patient/p2", fields);
  expectRefusal(check.check(call(target, signRequestAs(lakeside, elsewhere).headerLines), peer, organization),
                "signature_invalid");
  // x-request-id and x-purpose-of-use not covered.
  RequestToSign partial = toSign(target, fields, {"@method", "@target-uri"});
  expectRefusal(check.check(call(target, signRequestAs(lakeside, partial).headerLines), peer, organization),
                "signature_components_missing");
  RequestToSign noPurpose = toSign(target, fields, {"@method", "@target-uri", "x-request-id"});
  expectRefusal(check.check(call(target, signRequestAs(lakeside, noPurpose).headerLines), peer, organization),
                "signature_components_missing");
  // Too old, and from the future.
  RequestToSign old = toSign(target, fields, {"@method", "@target-uri", "x-purpose-of-use", "x-request-id"});
  old.created = now - 400;
  old.expires = now + 60;  // only created is too old
  expectRefusal(check.check(call(target, signRequestAs(lakeside, old).headerLines), peer, organization),
                "signature_expired");
  RequestToSign future = old;
  future.created = now + 120;
  future.expires = now + 180;
  expectRefusal(check.check(call(target, signRequestAs(lakeside, future).headerLines), peer, organization),
                "signature_not_yet_valid");
  // No nonce.
  RequestToSign noNonce = old;
  noNonce.created = now;
  noNonce.expires = now + 60;
  noNonce.nonce = "";
  expectRefusal(check.check(call(target, signRequestAs(lakeside, noNonce).headerLines), peer, organization),
                "signature_nonce_missing");
  EXPECT_TRUE(nonces.seen.empty());
  EXPECT_TRUE(archive.kept.empty());
}

TEST_F(RequestSignatureCheckTest, AReplayedNonceIsRefused) {
  auto check = checker(auth::SignaturePolicy::kVerifyIfPresent);
  const HttpCall once = signedCall(lakeside);
  EXPECT_FALSE(check.check(once, peer, organization).refusal);
  expectRefusal(check.check(once, peer, organization), "signature_replayed");
  EXPECT_EQ(counters.refusals.value({"signature", "signature_replayed"}), 1u);
}

TEST_F(RequestSignatureCheckTest, StoresThatCannotAnswerFailClosed) {
  auto check = checker(auth::SignaturePolicy::kVerifyIfPresent);
  nonces.down = true;
  auto out = check.check(signedCall(lakeside), peer, organization);
  ASSERT_TRUE(out.refusal);
  EXPECT_EQ(out.refusal->status, 503);
  EXPECT_EQ(out.refusal->refusalReason, "signature_store_unavailable");
  nonces.down = false;
  archive.down = true;
  out = check.check(signedCall(lakeside), peer, organization);
  ASSERT_TRUE(out.refusal);
  EXPECT_EQ(out.refusal->status, 503);
  EXPECT_EQ(out.refusal->refusalReason, "signature_store_unavailable");
  EXPECT_EQ(out.signature.check, "signature_store_unavailable");
  EXPECT_FALSE(out.signature.evidence) << "nothing of a request the node did not serve is kept as verified";
  EXPECT_EQ(counters.refusals.value({"signature", "signature_store_unavailable"}), 2u);
}

TEST_F(RequestSignatureCheckTest, ARefusedSignatureNeverReachesAHandlerAndIsAuditedDenied) {
  hie::testing::MemoryRecordStore store;
  store.put("Patient", "p1", "p1");
  RecordApi records{store, RecordApiSettings{}};
  hie::testing::MemoryAuditReader auditReader;
  AuditApi auditApi{auditReader};
  CapabilityStatementHandler metadata{NodeDescription{"node-a", "urn:oid:1.2", "0.1.0", {}}};
  FixedDirectory directory({{kLakeside, "Lakeside", auth::OrganizationStatus::kActive, {auth::Role::kMember}, {}, {}}},
                           {auth::Grant{1, kLakeside, {"Patient"}, {auth::Action::kRead}, {"TREAT"}}});
  auto check = checker(auth::SignaturePolicy::kRequire);
  RequestGate gate{directory, metadata, records, auditApi, nullptr, counters, "", nullptr, &check};

  HttpCall accepted = signedCall(lakeside);
  auto served = gate.handle(accepted, peer);
  EXPECT_EQ(served.reply.status, 200) << served.reply.body;
  EXPECT_EQ(served.reply.access.action, "read");
  EXPECT_EQ(served.signature.check, "verified");

  HttpCall tampered = call("/fhir/Patient/p1", hie::testing::withFlippedSignatureByte(
                                                   signRequestAs(lakeside, toSign("/fhir/Patient/p1", {{"X-Purpose-Of-Use", "TREAT"},
                                                                                     {"X-Request-Id", "r-1"}}))
                                                       .headerLines));
  auto refused = gate.handle(tampered, peer);
  EXPECT_EQ(refused.reply.status, 401);
  EXPECT_EQ(refused.organization, kLakeside);
  EXPECT_TRUE(refused.reply.access.action.empty());  // no handler ran
  EXPECT_EQ(refused.reply.access.resultCount, 0);
  EXPECT_TRUE(refused.reply.access.entities.empty());
  audit::AuditEvent event = requestEvent(tampered, "/fhir/Patient/p1", peer, refused.organization, refused.reply, 0);
  addSignatureEvidence(event, refused.signature, nullptr);
  EXPECT_EQ(event.outcome, "denied");
  EXPECT_EQ(event.outcomeReason, "signature_invalid");
  EXPECT_EQ(event.signatureCheck, "signature_invalid");
  EXPECT_EQ(event.action, "rest");
  EXPECT_TRUE(event.requestSignature.empty());
  EXPECT_EQ(counters.refusals.value({"signature", "signature_invalid"}), 1u);

  // A witness submission refused for its signature stays a witnessing entry (the loop breaker).
  HttpCall witness = call("/witness/add-checkpoint", {"X-Request-Id: r-2"});
  witness.method = "POST";
  EXPECT_EQ(gate.handle(witness, peer).reply.access.action, audit::kWitnessAction);
}

TEST_F(RequestSignatureCheckTest, AnAnswerIsSignedOverTheRequestsSignatureAndVerifies) {
  auto key = auth::MessageSigningKey::fromPem(lakeside.keyPem(), pki.chainPem(lakeside));
  ASSERT_TRUE(key) << key.error().internal;
  ReplySigner signer(std::make_shared<const auth::MessageSigningKey>(std::move(*key)));
  auto check = checker(auth::SignaturePolicy::kVerifyIfPresent);
  HttpCall request = signedCall(other);
  auto otherId = auth::extractIdentity(other.cert());
  ASSERT_TRUE(otherId);
  // Without the presented chain a verified request is not served: its evidence could not be checked.
  const auto chainless = check.check(signedCall(other), *otherId, organization);
  ASSERT_TRUE(chainless.refusal);
  EXPECT_EQ(chainless.refusal->status, 503);
  EXPECT_EQ(chainless.refusal->refusalReason, "signature_store_unavailable");
  otherId->chainPem = other.certPem();
  auto checked = check.check(request, *otherId, organization);
  ASSERT_TRUE(checked.signature.evidence) << checked.signature.check;

  HttpReply reply;
  reply.status = 200;
  reply.body = "{\"resourceType\":\"Patient\"}";
  auto evidence = signer.sign("", request, reply, &*checked.signature.evidence);
  ASSERT_TRUE(evidence);
  EXPECT_NE(evidence->base.find("\"signature\";req;key=\"sig1\": "), std::string::npos) << evidence->base;

  auth::HttpMessage response;
  response.status = reply.status;
  response.fields = reply.headers;
  response.fields.emplace_back("X-Request-Id", request.requestId);
  const auth::SignatureWindow window{static_cast<std::int64_t>(std::time(nullptr)), 300, 30};
  auto verified = auth::verifyResponse(response, reply.body, requestMessage(request), &*checked.signature.evidence,
                                       peer.publicKeyDer, peer.certSha256, window);
  ASSERT_TRUE(verified) << verified.error().reason << ": " << verified.error().detail;
  ASSERT_TRUE(*verified);
  EXPECT_EQ((*verified)->base, evidence->base);

  // The body changed on the way: the digest no longer matches.
  auto tampered = auth::verifyResponse(response, reply.body + " ", requestMessage(request),
                                       &*checked.signature.evidence, peer.publicKeyDer, peer.certSha256, window);
  ASSERT_FALSE(tampered);
  EXPECT_EQ(tampered.error().reason, "content_digest_mismatch");
}

}  // namespace
}  // namespace hie::exchange

namespace hie::exchange {
namespace {

TEST_F(RequestSignatureCheckTest, TheSignedRequestIdMustBeTheOneTheNodeAnswersUnder) {
  auto check = checker(auth::SignaturePolicy::kVerifyIfPresent);
  // The node replaced an id it does not accept: what it would audit and answer under is not what was signed.
  HttpCall rewritten = signedCall(lakeside);
  rewritten.requestId = "3f1c0d";
  auto out = check.check(rewritten, peer, organization);
  ASSERT_TRUE(out.refusal);
  EXPECT_EQ(out.refusal->status, 401);
  EXPECT_EQ(out.signature.check, "signature_malformed");
  EXPECT_TRUE(nonces.seen.empty()) << "a refused request's nonce is not spent";
  // Two X-Request-Id lines: the base covers "r-1, r-2", the node would keep one of them.
  RequestToSign two;
  two.target = "/fhir/Patient/p1";
  two.fields = {{"X-Purpose-Of-Use", "TREAT"}, {"X-Request-Id", "r-1"}, {"X-Request-Id", "r-2"}};
  const HttpCall twice = call(two.target, signRequestAs(lakeside, two).headerLines);
  EXPECT_EQ(check.check(twice, peer, organization).signature.check, "signature_malformed");
  EXPECT_EQ(check.check(signedCall(lakeside), peer, organization).signature.check, "verified");
}

TEST_F(RequestSignatureCheckTest, AnAnswerIsSignedWithTheKeyOfTheCertificateItsConnectionPresented) {
  auto oldKey = auth::MessageSigningKey::fromPem(lakeside.keyPem(), pki.chainPem(lakeside));
  auto newKey = auth::MessageSigningKey::fromPem(other.keyPem(), pki.chainPem(other));
  ASSERT_TRUE(oldKey && newKey);
  const std::string oldId = oldKey->keyId(), newId = newKey->keyId();
  ReplySigner signer(std::make_shared<const auth::MessageSigningKey>(std::move(*oldKey)));
  signer.addKey(std::make_shared<const auth::MessageSigningKey>(std::move(*newKey)));  // a TLS reload
  const HttpCall request = call("/fhir/Patient/p1", {"X-Request-Id: r-1"});
  auto keyIdOf = [](const std::optional<auth::SignatureEvidence>& e) { return e ? e->keyId : std::string("unsigned"); };
  HttpReply a, b, c;
  EXPECT_EQ(keyIdOf(signer.sign(oldId, request, a, nullptr)), oldId);  // a connection from before the reload
  EXPECT_EQ(keyIdOf(signer.sign(newId, request, b, nullptr)), newId);
  // A certificate whose key is not here: unsigned rather than signed with a key its caller would refuse.
  EXPECT_EQ(keyIdOf(signer.sign(std::string(64, 'a'), request, c, nullptr)), "unsigned");
  EXPECT_TRUE(c.headers.empty());
}

}  // namespace
}  // namespace hie::exchange

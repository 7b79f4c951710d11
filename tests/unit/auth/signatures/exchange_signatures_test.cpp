#include "auth/signatures/exchange_signatures.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/support/signing_identity.h"
#include "tests/support/test_pki.h"

namespace hie::auth {
namespace {

using testing::SignerKey;
using testing::SigningIdentity;
using testing::TestPki;

constexpr std::int64_t kNow = 1767225600;  // 2026-01-01

const TestPki& pki() {
  static const TestPki kPki = TestPki::create();
  return kPki;
}

struct Signer {
  SigningIdentity id;
  MessageSigningKey key;
};

Signer signer(SignerKey type = SignerKey::kEcP256) {
  SigningIdentity id = SigningIdentity::issue(pki(), type);
  auto key = MessageSigningKey::fromPem(id.keyPem, id.certPem);
  if (!key) throw std::runtime_error(key.error().internal);
  return Signer{std::move(id), std::move(*key)};
}

HttpMessage request() {
  HttpMessage m;
  m.method = "GET";
  m.targetUri = "https://node-b.example:8443/fhir/Patient?identifier=urn:oid:1.2%7C42";
  m.fields = {{"Host", "node-b.example:8443"}, {"X-Request-Id", "req-1"}, {"X-Purpose-Of-Use", "TREAT"}};
  return m;
}

HttpMessage withFields(HttpMessage m, const FieldList& fields) {
  m.fields.insert(m.fields.end(), fields.begin(), fields.end());
  return m;
}

SignatureWindow window(std::int64_t now = kNow) {
  SignatureWindow w;
  w.now = now;
  return w;
}

// A request signed with parameters of the test's choosing (what a client other than this node may send).
HttpMessage craft(const Signer& s, HttpMessage m, const SignatureParams& params, const std::string& label = "sig1") {
  auto base = signatureBase(m, nullptr, params);
  EXPECT_TRUE(base) << (base ? "" : base.error().internal);
  auto signature = s.key.sign(base ? *base : "");
  EXPECT_TRUE(signature);
  m.fields.emplace_back("Signature-Input", signatureInputField(label, params));
  m.fields.emplace_back("Signature", signatureField(label, signature ? *signature : ""));
  return m;
}

ComponentId named(const std::string& name) {
  ComponentId id;
  id.name = name;
  return id;
}

SignatureParams standard(const Signer& s, std::int64_t created = kNow) {
  SignatureParams p;
  p.components = {named("@method"), named("@target-uri"), named("x-purpose-of-use"), named("x-request-id")};
  p.created = created;
  p.expires = created + 60;
  p.nonce = "bm9uY2Ux";
  p.alg = algorithmName(s.key.algorithm());
  p.keyid = s.id.keyId;
  return p;
}

std::string refusalOf(const tl::expected<std::optional<VerifiedRequest>, SignatureRefusal>& r) {
  if (r) return *r ? "verified" : "unsigned";
  return r.error().reason;
}

std::string refusalOf(const tl::expected<std::optional<SignatureEvidence>, SignatureRefusal>& r) {
  if (r) return *r ? "verified" : "unsigned";
  return r.error().reason;
}

TEST(ExchangeSignatures, SignedRequestsVerifyForEveryKeyType) {
  for (SignerKey type : {SignerKey::kEcP256, SignerKey::kRsa2048, SignerKey::kEd25519, SignerKey::kEcP384}) {
    const Signer s = signer(type);
    auto signed_ = signRequest(s.key, request(), nullptr, kNow);
    ASSERT_TRUE(signed_) << signed_.error().internal;
    ASSERT_EQ(signed_->fields.size(), 2u);
    EXPECT_EQ(signed_->fields[0].first, "Signature-Input");
    EXPECT_EQ(signed_->fields[1].first, "Signature");
    const std::string& input = signed_->fields[0].second;
    const std::string prefix = "sig1=(\"@method\" \"@target-uri\" \"x-purpose-of-use\" \"x-request-id\");created=" +
                               std::to_string(kNow) + ";expires=" + std::to_string(kNow + 60) + ";nonce=\"";
    EXPECT_EQ(input.rfind(prefix, 0), 0u) << input;
    EXPECT_NE(input.find(";alg=\"" + std::string(algorithmName(s.key.algorithm())) + "\";keyid=\"" + s.id.keyId + "\""),
              std::string::npos)
        << input;
    EXPECT_EQ(signed_->evidence.label, "sig1");
    EXPECT_EQ(signed_->evidence.keyId, s.id.keyId);
    EXPECT_EQ(signed_->evidence.signatureField(), signed_->fields[1].second.substr(5));

    auto verified = verifyRequest(withFields(request(), signed_->fields), "", s.id.spkiDer, s.id.keyId, window(kNow + 5));
    ASSERT_TRUE(verified) << verified.error().reason << ": " << verified.error().detail;
    ASSERT_TRUE(*verified);
    EXPECT_EQ((*verified)->evidence.base, signed_->evidence.base);
    EXPECT_EQ((*verified)->evidence.signature, signed_->evidence.signature);
    EXPECT_EQ((*verified)->evidence.algorithm, algorithmName(s.key.algorithm()));
    EXPECT_EQ((*verified)->created, kNow);
    EXPECT_EQ((*verified)->rememberUntil, kNow + 300 + 30);
    EXPECT_EQ((*verified)->nonce.size(), 22u);  // 16 bytes, base64url without padding
    EXPECT_EQ((*verified)->nonce.find_first_not_of(
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos);
  }
}

TEST(ExchangeSignatures, NoncesAreFresh) {
  const Signer s = signer();
  auto a = signRequest(s.key, request(), nullptr, kNow);
  auto b = signRequest(s.key, request(), nullptr, kNow);
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->fields[0].second, b->fields[0].second);
}

TEST(ExchangeSignatures, ABodyIsCoveredByContentDigest) {
  const Signer s = signer();
  HttpMessage post = request();
  post.method = "POST";
  const std::string body = R"({"resourceType":"Bundle"})";
  auto signed_ = signRequest(s.key, post, &body, kNow);
  ASSERT_TRUE(signed_);
  ASSERT_EQ(signed_->fields.size(), 3u);
  EXPECT_EQ(signed_->fields[0], (std::pair<std::string, std::string>{"Content-Digest", contentDigestField(body)}));
  EXPECT_NE(signed_->fields[1].second.find("\"x-request-id\" \"content-digest\")"), std::string::npos);
  const HttpMessage sent = withFields(post, signed_->fields);
  EXPECT_EQ(refusalOf(verifyRequest(sent, body, s.id.spkiDer, s.id.keyId, window())), "verified");
  EXPECT_EQ(refusalOf(verifyRequest(sent, body + " ", s.id.spkiDer, s.id.keyId, window())), "content_digest_mismatch");
}

TEST(ExchangeSignatures, WithoutPurposeTheFieldIsNotCovered) {
  const Signer s = signer();
  HttpMessage m = request();
  m.fields.pop_back();
  auto signed_ = signRequest(s.key, m, nullptr, kNow);
  ASSERT_TRUE(signed_);
  EXPECT_EQ(signed_->fields[0].second.find("x-purpose-of-use"), std::string::npos);
  EXPECT_EQ(refusalOf(verifyRequest(withFields(m, signed_->fields), "", s.id.spkiDer, s.id.keyId, window())), "verified");
  // Adding a purpose afterwards is refused: it is not covered.
  HttpMessage added = withFields(m, signed_->fields);
  added.fields.emplace_back("X-Purpose-Of-Use", "TREAT");
  EXPECT_EQ(refusalOf(verifyRequest(added, "", s.id.spkiDer, s.id.keyId, window())), "signature_components_missing");
}

TEST(ExchangeSignatures, SigningRefusesWhatItCannotSign) {
  const Signer s = signer();
  HttpMessage m = request();
  m.fields = {{"Host", "node-b.example:8443"}};
  EXPECT_FALSE(signRequest(s.key, m, nullptr, kNow));  // no X-Request-Id
  auto signed_ = signRequest(s.key, request(), nullptr, kNow);
  ASSERT_TRUE(signed_);
  EXPECT_FALSE(signRequest(s.key, withFields(request(), signed_->fields), nullptr, kNow));  // already signed
  const std::string body = "x";
  EXPECT_FALSE(signRequest(s.key, withFields(request(), {{"Content-Digest", "sha-256=:AAAA:"}}), &body, kNow));
  HttpMessage relative = request();
  relative.targetUri = "/fhir/metadata";
  EXPECT_FALSE(signRequest(s.key, relative, nullptr, kNow));
}

TEST(ExchangeSignatures, UnsignedIsForThePolicyToDecide) {
  const Signer s = signer();
  EXPECT_EQ(refusalOf(verifyRequest(request(), "", s.id.spkiDer, s.id.keyId, window())), "unsigned");
  EXPECT_EQ(signatureMissing().reason, refusal::kSignatureMissing);
  EXPECT_EQ(std::string(refusal::kSignatureMissing), "signature_missing");
  EXPECT_FALSE(signatureMissing().detail.empty());
}

// Every reason verifyRequest gives, each from the smallest change that causes it.
TEST(ExchangeSignatures, EveryRequestRefusalReason) {
  const Signer s = signer();
  const Signer other = signer();
  const Signer rsa = signer(SignerKey::kRsa2048);
  auto check = [&](const HttpMessage& m, const std::string& body, const std::string& expected) {
    auto r = verifyRequest(m, body, s.id.spkiDer, s.id.keyId, window());
    EXPECT_EQ(refusalOf(r), expected);
    if (!r) {
      EXPECT_FALSE(r.error().detail.empty());
    }
  };
  check(craft(s, request(), standard(s)), "", "verified");

  check(withFields(request(), {{"Signature-Input", "sig1=("}, {"Signature", "sig1=:AAAA:"}}), "", "signature_malformed");
  check(withFields(request(), {{"Signature-Input", "sig1=();created=1"}}), "", "signature_malformed");
  check(withFields(request(), {{"Signature", "sig1=:AAAA:"}}), "", "signature_malformed");
  SignatureParams noCreated = standard(s);
  noCreated.created.reset();
  check(craft(s, request(), noCreated), "", "signature_malformed");
  SignatureParams backwards = standard(s);
  backwards.expires = kNow - 1;
  check(craft(s, request(), backwards), "", "signature_malformed");
  SignatureParams longNonce = standard(s);
  longNonce.nonce = std::string(300, 'n');
  check(craft(s, request(), longNonce), "", "signature_malformed");
  SignatureParams reqInRequest = standard(s);
  ComponentId reqMethod = named("@method");
  reqMethod.req = true;
  reqInRequest.components.push_back(reqMethod);
  HttpMessage unsignable = request();
  unsignable.fields.emplace_back("Signature-Input", signatureInputField("sig1", reqInRequest));
  unsignable.fields.emplace_back("Signature", signatureField("sig1", std::string(64, 'x')));
  check(unsignable, "", "signature_malformed");

  for (const char* name : {"@method", "@target-uri", "x-purpose-of-use", "x-request-id"}) {
    SignatureParams p = standard(s);
    p.components.erase(std::find(p.components.begin(), p.components.end(), named(name)));
    check(craft(s, request(), p), "", "signature_components_missing");
  }
  SignatureParams extra = standard(s);
  extra.components.push_back(named("x-extra"));
  HttpMessage stripped = craft(s, withFields(request(), {{"X-Extra", "1"}}), extra);
  stripped.fields.erase(std::find_if(stripped.fields.begin(), stripped.fields.end(),
                                     [](const auto& f) { return f.first == "X-Extra"; }));
  check(stripped, "", "signature_components_missing");
  const std::string body = "{}";
  SignatureParams digestNotCovered = standard(s);
  check(craft(s, withFields(request(), {{"Content-Digest", contentDigestField(body)}}), digestNotCovered), body,
        "signature_components_missing");

  SignatureParams foreign = standard(s);
  foreign.keyid = other.id.keyId;
  check(craft(s, request(), foreign), "", "signature_key_mismatch");
  check(craft(other, request(), standard(other)), "", "signature_key_mismatch");
  SignatureParams noKeyid = standard(s);
  noKeyid.keyid.reset();
  check(craft(s, request(), noKeyid), "", "signature_key_mismatch");

  SignatureParams wrongAlg = standard(s);
  wrongAlg.alg = "rsa-pss-sha512";
  check(craft(s, request(), wrongAlg), "", "signature_algorithm");
  testing::CertSpec weakSpec;
  weakSpec.keyType = testing::KeyType::kRsa1024;
  auto weak = pki().leaf(weakSpec);
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(X509_get0_pubkey(weak.cert()), &der);
  EXPECT_EQ(refusalOf(verifyRequest(craft(s, request(), standard(s)), "", ossl::takeDer(der, length), s.id.keyId,
                                    window())),
            "signature_algorithm");

  HttpMessage tampered = craft(s, request(), standard(s));
  for (auto& f : tampered.fields) {
    if (f.first == "X-Request-Id") f.second = "req-2";
  }
  check(tampered, "", "signature_invalid");
  HttpMessage retargeted = craft(s, request(), standard(s));
  retargeted.targetUri += "&_count=1";
  check(retargeted, "", "signature_invalid");
  // Signed by another key under this certificate's keyid.
  SignatureParams borrowed = standard(other);
  borrowed.keyid = s.id.keyId;
  check(craft(other, request(), borrowed), "", "signature_invalid");
  // An RSA signature presented for the EC certificate (alg left out).
  SignatureParams rsaParams = standard(rsa);
  rsaParams.alg.reset();
  rsaParams.keyid = s.id.keyId;
  check(craft(rsa, request(), rsaParams), "", "signature_invalid");

  check(craft(s, request(), standard(s, kNow - 301)), "", "signature_expired");
  SignatureParams expired = standard(s, kNow - 200);
  expired.expires = kNow - 31;
  check(craft(s, request(), expired), "", "signature_expired");
  SignatureParams justExpired = standard(s, kNow - 200);
  justExpired.expires = kNow - 30;  // within the clock skew
  check(craft(s, request(), justExpired), "", "verified");
  SignatureParams oldest = standard(s, kNow - 300);  // no expires: maxAge alone bounds it
  oldest.expires.reset();
  check(craft(s, request(), oldest), "", "verified");
  oldest.created = kNow - 301;
  check(craft(s, request(), oldest), "", "signature_expired");

  check(craft(s, request(), standard(s, kNow + 31)), "", "signature_not_yet_valid");
  check(craft(s, request(), standard(s, kNow + 30)), "", "verified");

  SignatureParams noNonce = standard(s);
  noNonce.nonce.reset();
  check(craft(s, request(), noNonce), "", "signature_nonce_missing");
  SignatureParams emptyNonce = standard(s);
  emptyNonce.nonce = "";
  check(craft(s, request(), emptyNonce), "", "signature_nonce_missing");

  SignatureParams covered = standard(s);
  covered.components.push_back(named("content-digest"));
  check(craft(s, withFields(request(), {{"Content-Digest", contentDigestField(body)}}), covered), body + "!",
        "content_digest_mismatch");
  check(craft(s, withFields(request(), {{"Content-Digest", "sha-256=\"x\""}}), covered), body, "signature_malformed");
  check(craft(s, withFields(request(), {{"Content-Digest", "md5=:AAAA:"}}), covered), body, "content_digest_missing");
  check(craft(s, request(), standard(s)), body, "content_digest_missing");
}

// P-256 and P-384 are both ECDSA: alg must name the curve of the certificate's key, and a signature of
// one curve's length does not pass for the other's.
TEST(ExchangeSignatures, EcdsaCurvesAreNotInterchangeable) {
  const Signer p256 = signer(SignerKey::kEcP256);
  const Signer p384 = signer(SignerKey::kEcP384);
  ASSERT_EQ(p384.key.algorithm(), SignatureAlgorithm::kEcdsaP384Sha384);
  auto verify = [](const Signer& s, const HttpMessage& m) {
    return refusalOf(verifyRequest(m, "", s.id.spkiDer, s.id.keyId, window()));
  };
  EXPECT_EQ(verify(p384, craft(p384, request(), standard(p384))), "verified");
  SignatureParams claims256 = standard(p384);
  claims256.alg = "ecdsa-p256-sha256";
  EXPECT_EQ(verify(p384, craft(p384, request(), claims256)), "signature_algorithm");
  SignatureParams claims384 = standard(p256);
  claims384.alg = "ecdsa-p384-sha384";
  EXPECT_EQ(verify(p256, craft(p256, request(), claims384)), "signature_algorithm");
  // A P-256 signature (64 bytes) presented under the P-384 certificate's keyid, alg left out.
  SignatureParams borrowed = standard(p256);
  borrowed.alg.reset();
  borrowed.keyid = p384.id.keyId;
  EXPECT_EQ(verify(p384, craft(p256, request(), borrowed)), "signature_invalid");
}

TEST(ExchangeSignatures, TheSignatureOfTheConnectionsCertificateIsChosen) {
  const Signer s = signer();
  const Signer other = signer();
  // Another party's signature next to ours (label first) does not matter, under any label.
  HttpMessage both = craft(other, request(), standard(other), "proxy");
  SignatureParams mine = standard(s);
  both = craft(s, both, mine, "mine");
  EXPECT_EQ(refusalOf(verifyRequest(both, "", s.id.spkiDer, s.id.keyId, window())), "verified");
  auto verified = verifyRequest(both, "", s.id.spkiDer, s.id.keyId, window());
  ASSERT_TRUE(verified && *verified);
  EXPECT_EQ((*verified)->evidence.label, "mine");
  // A bad signature by the other party is not checked.
  HttpMessage badOther = craft(s, withFields(request(), {{"Signature-Input", signatureInputField("proxy", standard(other))},
                                                         {"Signature", signatureField("proxy", std::string(64, 'x'))}}),
                               mine, "mine");
  EXPECT_EQ(refusalOf(verifyRequest(badOther, "", s.id.spkiDer, s.id.keyId, window())), "verified");
  // Two of ours: sig1 is the one checked.
  HttpMessage two = craft(s, request(), standard(s), "a");
  SignatureParams broken = standard(s);
  two.fields.emplace_back("Signature-Input", signatureInputField("sig1", broken));
  two.fields.emplace_back("Signature", signatureField("sig1", std::string(64, 'x')));
  EXPECT_EQ(refusalOf(verifyRequest(two, "", s.id.spkiDer, s.id.keyId, window())), "signature_invalid");
}

TEST(ExchangeSignatures, ManySignaturesAreMalformed) {
  const Signer s = signer();
  HttpMessage m = craft(s, request(), standard(s));
  for (int i = 0; i < 16; ++i) {
    m.fields.emplace_back("Signature-Input", signatureInputField("x" + std::to_string(i), standard(s)));
    m.fields.emplace_back("Signature", signatureField("x" + std::to_string(i), "sig"));
  }
  EXPECT_EQ(refusalOf(verifyRequest(m, "", s.id.spkiDer, s.id.keyId, window())), "signature_malformed");
}

HttpMessage response(int status = 200) {
  HttpMessage m;
  m.status = status;
  m.fields = {{"Content-Type", "application/fhir+json"}, {"X-Request-Id", "req-1"}};
  return m;
}

TEST(ExchangeSignatures, AnswersCoverTheRequestsSignature) {
  const Signer client = signer();
  const Signer server = signer(SignerKey::kRsa2048);
  auto signedRequest = signRequest(client.key, request(), nullptr, kNow);
  ASSERT_TRUE(signedRequest);
  const HttpMessage sent = withFields(request(), signedRequest->fields);
  auto verifiedRequest = verifyRequest(sent, "", client.id.spkiDer, client.id.keyId, window());
  ASSERT_TRUE(verifiedRequest && *verifiedRequest);
  const SignatureEvidence& evidence = (*verifiedRequest)->evidence;

  const std::string body = R"({"resourceType":"Bundle","type":"searchset"})";
  auto signedAnswer = signResponse(server.key, response(), body, sent, &evidence, kNow + 1);
  ASSERT_TRUE(signedAnswer) << signedAnswer.error().internal;
  ASSERT_EQ(signedAnswer->fields.size(), 3u);
  EXPECT_EQ(signedAnswer->fields[0].second, contentDigestField(body));
  EXPECT_EQ(signedAnswer->fields[1].second,
            "sig1=(\"@status\" \"content-digest\" \"x-request-id\" \"signature\";req;key=\"sig1\");created=" +
                std::to_string(kNow + 1) + ";alg=\"rsa-pss-sha512\";keyid=\"" + server.id.keyId + "\"");
  EXPECT_NE(signedAnswer->evidence.base.find("\"signature\";req;key=\"sig1\": " + evidence.signatureField() + "\n"),
            std::string::npos);

  const HttpMessage received = withFields(response(), signedAnswer->fields);
  auto verified = verifyResponse(received, body, sent, &signedRequest->evidence, server.id.spkiDer, server.id.keyId,
                                 window(kNow + 2));
  ASSERT_TRUE(verified) << verified.error().reason << ": " << verified.error().detail;
  ASSERT_TRUE(*verified);
  EXPECT_EQ((*verified)->base, signedAnswer->evidence.base);
  EXPECT_EQ((*verified)->keyId, server.id.keyId);

  // The answer to another request (another request signature) does not verify.
  auto otherRequest = signRequest(client.key, request(), nullptr, kNow);
  ASSERT_TRUE(otherRequest);
  const HttpMessage otherSent = withFields(request(), otherRequest->fields);
  EXPECT_EQ(refusalOf(verifyResponse(received, body, otherSent, &otherRequest->evidence, server.id.spkiDer,
                                     server.id.keyId, window(kNow + 2))),
            "signature_invalid");
  // A different status or body does not either.
  HttpMessage changed = withFields(response(500), signedAnswer->fields);
  EXPECT_EQ(refusalOf(verifyResponse(changed, body, sent, &signedRequest->evidence, server.id.spkiDer, server.id.keyId,
                                     window(kNow + 2))),
            "signature_invalid");
  EXPECT_EQ(refusalOf(verifyResponse(received, body + "x", sent, &signedRequest->evidence, server.id.spkiDer,
                                     server.id.keyId, window(kNow + 2))),
            "content_digest_mismatch");
}

TEST(ExchangeSignatures, AnswersToUnsignedRequests) {
  const Signer server = signer(SignerKey::kEd25519);
  const std::string body;
  auto signedAnswer = signResponse(server.key, response(404), body, request(), nullptr, kNow);
  ASSERT_TRUE(signedAnswer);
  EXPECT_EQ(signedAnswer->fields[1].second.find("\"signature\""), std::string::npos);
  const HttpMessage received = withFields(response(404), signedAnswer->fields);
  EXPECT_EQ(refusalOf(verifyResponse(received, body, request(), nullptr, server.id.spkiDer, server.id.keyId, window())),
            "verified");
  EXPECT_EQ(refusalOf(verifyResponse(response(404), body, request(), nullptr, server.id.spkiDer, server.id.keyId,
                                     window())),
            "unsigned");
}

TEST(ExchangeSignatures, EveryAnswerRefusalReason) {
  const Signer client = signer();
  const Signer server = signer();
  const Signer other = signer();
  auto signedRequest = signRequest(client.key, request(), nullptr, kNow);
  ASSERT_TRUE(signedRequest);
  const HttpMessage sent = withFields(request(), signedRequest->fields);
  const SignatureEvidence* evidence = &signedRequest->evidence;
  const std::string body = "{}";
  auto answer = [&](const Signer& by, const HttpMessage& m, const SignatureEvidence* covered, std::int64_t at) {
    auto signed_ = signResponse(by.key, m, body, sent, covered, at);
    EXPECT_TRUE(signed_);
    return withFields(m, signed_ ? signed_->fields : FieldList{});
  };
  auto check = [&](const HttpMessage& m, const std::string& b, const std::string& expected) {
    EXPECT_EQ(refusalOf(verifyResponse(m, b, sent, evidence, server.id.spkiDer, server.id.keyId, window())), expected);
  };
  check(answer(server, response(), evidence, kNow), body, "verified");
  check(answer(server, response(), nullptr, kNow), body, "signature_components_missing");  // req signature not covered
  check(answer(other, response(), evidence, kNow), body, "signature_key_mismatch");
  check(answer(server, response(), evidence, kNow - 301), body, "signature_expired");
  check(answer(server, response(), evidence, kNow + 31), body, "signature_not_yet_valid");
  check(answer(server, response(), evidence, kNow), body + " ", "content_digest_mismatch");
  HttpMessage noDigest = answer(server, response(), evidence, kNow);
  noDigest.fields.erase(std::find_if(noDigest.fields.begin(), noDigest.fields.end(),
                                     [](const auto& f) { return f.first == "Content-Digest"; }));
  check(noDigest, body, "content_digest_missing");
  HttpMessage garbled = withFields(response(), {{"Signature-Input", "sig1=()"}, {"Signature", "sig1"}});
  check(garbled, body, "signature_malformed");
  // An answer signed by a key of a type the verifier's certificate does not have.
  SignatureParams p;
  p.components = {named("@status"), named("content-digest"), named("x-request-id")};
  p.created = kNow;
  p.alg = "ed25519";
  p.keyid = server.id.keyId;
  HttpMessage wrongAlg = withFields(response(), {{"Content-Digest", contentDigestField(body)}});
  wrongAlg.fields.emplace_back("Signature-Input", signatureInputField("sig1", p));
  wrongAlg.fields.emplace_back("Signature", signatureField("sig1", std::string(64, 'x')));
  EXPECT_EQ(refusalOf(verifyResponse(wrongAlg, body, sent, nullptr, server.id.spkiDer, server.id.keyId, window())),
            "signature_algorithm");

  EXPECT_FALSE(signResponse(server.key, response(0), body, sent, evidence, kNow));  // not a response
  HttpMessage noId = response();
  noId.fields.pop_back();
  EXPECT_FALSE(signResponse(server.key, noId, body, sent, evidence, kNow));  // no X-Request-Id
  EXPECT_FALSE(signResponse(server.key, response(), body, request(), evidence, kNow));  // request not signed
  SignatureEvidence notTheOne = *evidence;
  notTheOne.signature = "something else";
  EXPECT_FALSE(signResponse(server.key, response(), body, sent, &notTheOne, kNow));
}

}  // namespace
}  // namespace hie::auth

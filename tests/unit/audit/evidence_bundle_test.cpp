// The evidence bundle's pure parts: ECDSA r || s as DER (checked against OpenSSL's own encoder and
// decoder), reading the signature evidence of leaves of both shapes (27 and 32 keys), the
// parameters of a signature base, and the files and commands of a bundle.
#include "audit/evidence_bundle.h"

#include <gtest/gtest.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/rand.h>

#include "audit/canonical_form.h"
#include "common/base64.h"

namespace hie::audit {
namespace {

// OpenSSL's DER of (r, s) given as 32-byte big-endian halves.
std::string opensslDer(const std::string& raw) {
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  ECDSA_SIG_set0(sig, r, s);
  unsigned char* der = nullptr;
  const int n = i2d_ECDSA_SIG(sig, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  return out;
}

TEST(EvidenceBundle, EcdsaRawSignaturesBecomeTheDerOpensslWrites) {
  std::vector<std::string> cases;
  cases.push_back(std::string(32, '\x7f') + std::string(32, '\x01'));           // no padding byte
  cases.push_back(std::string(32, '\xff') + std::string(32, '\x80'));           // both need a 0x00 before them
  cases.push_back(std::string(31, '\0') + "\x05" + std::string(32, '\0'));     // leading zeros stripped; zero is 02 01 00
  cases.push_back(std::string(1, '\0') + std::string(31, '\x90') + std::string(32, '\x11'));  // a zero then the high bit
  for (int i = 0; i < 200; ++i) {
    std::string raw(64, '\0');
    ASSERT_EQ(RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), 64), 1);
    cases.push_back(raw);
  }
  for (const auto& raw : cases) {
    auto der = ecdsaSignatureDer(raw);
    ASSERT_TRUE(der);
    EXPECT_EQ(*der, opensslDer(raw));
    // And OpenSSL reads it back as the same numbers.
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der->data());
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der->size()));
    ASSERT_NE(sig, nullptr);
    unsigned char back[64];
    ASSERT_EQ(BN_bn2binpad(ECDSA_SIG_get0_r(sig), back, 32), 32);
    ASSERT_EQ(BN_bn2binpad(ECDSA_SIG_get0_s(sig), back + 32, 32), 32);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(back), 64), raw);
    ECDSA_SIG_free(sig);
  }
  EXPECT_EQ(ecdsaSignatureDer(std::string(32, 0x7f) + std::string(32, 0x01))->substr(0, 4), std::string("\x30\x44\x02\x20", 4));
  EXPECT_FALSE(ecdsaSignatureDer(""));
  EXPECT_FALSE(ecdsaSignatureDer(std::string(63, '\x01')));
}

const std::string kRequestBase =
    "\"@method\": GET\n"
    "\"@target-uri\": https://node-b.example:8443/fhir/Patient?identifier=urn:oid:1.2|MRN%2042\n"
    "\"x-purpose-of-use\": TREAT\n"
    "\"x-request-id\": req-7\n"
    "\"@signature-params\": (\"@method\" \"@target-uri\" \"x-purpose-of-use\" \"x-request-id\");created=1790000000;"
    "expires=1790000060;nonce=\"bm9uY2U\";alg=\"ecdsa-p256-sha256\";keyid=\"" + std::string(64, 'a') + "\"";

AuditEvent servedEvent() {
  AuditEvent e;
  e.time = "2026-11-26T10:00:00.123Z";
  e.eventType = "rest";
  e.action = "search";
  e.outcome = "success";
  e.organization = "urn:oid:1.2";
  e.certSha256 = std::string(64, 'a');
  e.patient = "Patient/p1";
  e.purpose = "TREAT";
  e.requestId = "req-7";
  return e;
}

TEST(EvidenceBundle, ALeafOfEitherShapeIsRead) {
  // The 27 keys of a leaf written before signed requests: no signature, nothing fails.
  CanonicalObject old = leafObject(servedEvent(), "node-b", 4);
  for (const char* key : {"requestSignature", "requestSignatureBase", "responseSignature", "responseSignatureBase",
                          "signatureCheck", "authentication", "clientId"}) {
    old.erase(key);
  }
  ASSERT_EQ(old.size(), 27u);
  auto before = readLeafEvidence(canonicalJson(old));
  ASSERT_TRUE(before) << before.error().internal;
  EXPECT_EQ(before->requestId, "req-7");
  EXPECT_EQ(before->patient, "Patient/p1");
  EXPECT_EQ(before->signatureCheck, "");
  EXPECT_FALSE(before->request);
  EXPECT_FALSE(before->answer);

  // 32 keys (before UDAP), unsigned.
  AuditEvent e = servedEvent();
  e.signatureCheck = "absent";
  CanonicalObject unsignedLeaf = leafObject(e, "node-b", 5);
  unsignedLeaf.erase("authentication");
  unsignedLeaf.erase("clientId");
  ASSERT_EQ(unsignedLeaf.size(), 32u);
  auto plain = readLeafEvidence(canonicalJson(unsignedLeaf));
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->signatureCheck, "absent");
  EXPECT_FALSE(plain->request);
  // 34 keys (this version), unsigned.
  ASSERT_EQ(leafObject(e, "node-b", 5).size(), 34u);
  auto current = readLeafEvidence(canonicalJson(leafObject(e, "node-b", 5)));
  ASSERT_TRUE(current);
  EXPECT_EQ(current->signatureCheck, "absent");

  // 34 keys, signed request and answer: the bases come back byte for byte (line feeds and '%' were encoded).
  e.signatureCheck = "verified";
  e.requestSignatureBase = kRequestBase;
  e.requestSignature = std::string(32, '\xff') + std::string(32, '\x01');
  const std::string answerBase = "\"@status\": 200\n" + requestSignatureLine(e.requestSignature) +
                                 "\n\"@signature-params\": (\"@status\" \"signature\";req;key=\"sig1\");created=1790000001;"
                                 "keyid=\"" + std::string(64, 'b') + "\"";
  e.responseSignatureBase = answerBase;
  e.responseSignature = std::string(64, '\x02');
  const std::string leaf = canonicalJson(leafObject(e, "node-b", 6));
  EXPECT_NE(leaf.find("%0A\\\"@target-uri\\\": https://node-b.example:8443/fhir/Patient?identifier=urn:oid:1.2|MRN%252042"),
            std::string::npos) << leaf;
  auto both = readLeafEvidence(leaf);
  ASSERT_TRUE(both) << both.error().internal;
  ASSERT_TRUE(both->request && both->answer);
  EXPECT_EQ(both->request->base, kRequestBase);
  EXPECT_EQ(both->request->signature, e.requestSignature);
  EXPECT_EQ(both->request->keyId, std::string(64, 'a'));
  EXPECT_EQ(both->request->algorithm, "ecdsa-p256-sha256");
  EXPECT_EQ(both->request->created, 1790000000);
  EXPECT_EQ(both->answer->base, answerBase);
  EXPECT_EQ(both->answer->keyId, std::string(64, 'b'));
  EXPECT_EQ(both->answer->algorithm, "");  // named by no alg parameter: the command takes it from the certificate
  EXPECT_NE(both->answer->base.find("\"signature\";req;key=\"sig1\": :" + base64Encode(e.requestSignature) + ":\n"),
            std::string::npos);

  // A signature that is not canonical base64, or one without its base, is refused.
  std::string forged = leaf;
  const std::string sig = "\"requestSignature\":\"" + base64Encode(e.requestSignature) + "\"";
  forged.replace(forged.find(sig), sig.size(), "\"requestSignature\":\"!!\"");
  EXPECT_FALSE(readLeafEvidence(forged));
  e.requestSignatureBase.clear();
  EXPECT_FALSE(readLeafEvidence(canonicalJson(leafObject(e, "node-b", 6))));
}

TEST(EvidenceBundle, SignatureBaseParametersAreReadFromTheLastLine) {
  EXPECT_EQ(signatureBaseParameter(kRequestBase, "keyid"), std::string(64, 'a'));
  EXPECT_EQ(signatureBaseParameter(kRequestBase, "created"), "1790000000");
  EXPECT_EQ(signatureBaseParameter(kRequestBase, "nonce"), "bm9uY2U");
  EXPECT_EQ(signatureBaseParameter(kRequestBase, "alg"), "ecdsa-p256-sha256");
  EXPECT_FALSE(signatureBaseParameter(kRequestBase, "tag"));
  // Only the parameters, never a component line that looks like one.
  EXPECT_FALSE(signatureBaseParameter("\"x-a\": ;keyid=\"x\"\n\"@signature-params\": (\"x-a\");created=1", "keyid"));
  EXPECT_FALSE(signatureBaseParameter("\"@method\": GET", "created"));
  // A component's parameter holding ')' and ';keyid=' is inside the inner list, not a parameter of the signature.
  EXPECT_EQ(signatureBaseParameter("\"@signature-params\": (\"x\";key=\"a);keyid=\\\"evil\\\"\");created=5;keyid=\"good\"",
                                   "keyid"),
            "good");
  EXPECT_EQ(signatureBaseParameter("\"@signature-params\": (\"@method\");created=5;nonce=\"a;b=\\\"c\"", "nonce"), "a;b=\"c");
}

TEST(EvidenceBundle, PercentDecodingUndoesTheEntryEncoding) {
  const std::string raw = std::string("a%b\n\x7f\xc3\xa9\"\\z", 10);
  EXPECT_EQ(percentDecoded(printableAscii(raw)), raw);
  EXPECT_EQ(percentDecoded("%0A%25%"), "\n%%");
}

TEST(EvidenceBundle, TheBundleHoldsItsFilesAndTheCommandsToCheckThem) {
  AuditEvent e = servedEvent();
  e.signatureCheck = "verified";
  e.requestSignatureBase = kRequestBase;
  e.requestSignature = std::string(32, '\xff') + std::string(32, '\x01');
  EvidenceSource source;
  source.origin = "hie-node/node-b/audit";
  source.index = 6;
  source.exportLine = "{\"entry\":{}}";
  source.logKey = "hie-node/node-b/audit+01020304+AQ==";
  auto leaf = readLeafEvidence(canonicalJson(leafObject(e, "node-b", 6)));
  ASSERT_TRUE(leaf);
  source.leaf = *leaf;
  source.requesterChainPem = "-----BEGIN CERTIFICATE-----\n";
  auto files = evidenceBundle(source);
  ASSERT_TRUE(files) << files.error().internal;
  std::map<std::string, std::string> byName;
  for (const auto& f : *files) byName[f.name] = f.content;
  for (const char* name : {"entry.jsonl", "log-key.vkey", "request-base.txt", "request-signature.bin",
                           "request-signature.der", "requester-chain.pem", "VERIFY.txt"}) {
    EXPECT_EQ(byName.count(name), 1u) << name;
  }
  EXPECT_EQ(byName.count("answer-base.txt"), 0u);  // the answer was not signed
  EXPECT_EQ(byName["request-base.txt"], kRequestBase);
  EXPECT_EQ(byName["request-signature.der"], *ecdsaSignatureDer(e.requestSignature));
  const std::string& v = byName["VERIFY.txt"];
  EXPECT_NE(v.find("openssl dgst -sha256 -verify requester-key.pem -signature request-signature.der request-base.txt"),
            std::string::npos) << v;
  EXPECT_NE(v.find("-attime 1790000000 requester-chain.pem"), std::string::npos) << v;
  EXPECT_NE(v.find("(c) The answer was not signed"), std::string::npos) << v;
  EXPECT_NE(v.find("\"$VERIFY_AUDIT\" --excerpt --log-key \"$(cat log-key.vkey)\" entry.jsonl"), std::string::npos) << v;

  // Other algorithms: the raw signature is what openssl takes.
  source.leaf.request->algorithm = "ed25519";
  files = evidenceBundle(source);
  ASSERT_TRUE(files);
  EXPECT_NE(files->back().content.find("openssl pkeyutl -verify -pubin -inkey requester-key.pem -rawin -in "
                                       "request-base.txt -sigfile request-signature.bin"),
            std::string::npos);
  source.leaf.request->algorithm = "rsa-pss-sha512";
  files = evidenceBundle(source);
  ASSERT_TRUE(files);
  EXPECT_NE(files->back().content.find("-sigopt rsa_pss_saltlen:64"), std::string::npos);
  source.leaf.request->algorithm = "ecdsa-p384-sha384";  // r || s of 96 bytes, as DER for openssl
  source.leaf.request->signature = std::string(48, '\x11') + std::string(48, '\x22');
  files = evidenceBundle(source);
  ASSERT_TRUE(files);
  EXPECT_NE(files->back().content.find("openssl dgst -sha384 -verify requester-key.pem -signature "
                                       "request-signature.der request-base.txt"),
            std::string::npos);
  source.leaf.request->algorithm = "hmac-sha256";
  EXPECT_FALSE(evidenceBundle(source));
}

}  // namespace
}  // namespace hie::audit

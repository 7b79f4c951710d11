// `hie-node audit evidence`: a signed request and its signed answer (signed here with the
// requester's and the node's own test certificates, as RFC 9421 bases), committed by the real
// audit writer to a real database with the certificates the node keeps; the command writes the
// bundle, and its VERIFY.txt runs with the real openssl binary and scripts/verify-audit. Altering
// the request's base, its signature, the entry, or giving another trust anchor makes it fail.
#include <gtest/gtest.h>

#include <filesystem>

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "audit/audit_writer.h"
#include "audit/evidence_bundle.h"
#include "audit/pg_audit_log_store.h"
#include "audit/signing_key.h"
#include "audit/transparency_log.h"
#include "common/base64.h"
#include "common/counters.h"
#include "tests/support/node_fixture.h"

namespace hie::testing {
namespace {

const std::string kScript = std::string(HIE_SOURCE_DIR) + "/scripts/verify-audit";
const std::string kRequester = "urn:oid:2.16.840.1.113883.3.7001";

// ECDSA P-256 SHA-256 over text with key, as RFC 9421 carries it: r || s, 32 bytes each.
std::string signEcdsa(EVP_PKEY* key, const std::string& text) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::size_t length = 0;
  EXPECT_EQ(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key), 1);
  EXPECT_EQ(EVP_DigestSign(ctx, nullptr, &length, reinterpret_cast<const unsigned char*>(text.data()), text.size()), 1);
  std::string der(length, '\0');
  EXPECT_EQ(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(der.data()), &length,
                           reinterpret_cast<const unsigned char*>(text.data()), text.size()),
            1);
  EVP_MD_CTX_free(ctx);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(length));
  unsigned char raw[64];
  EXPECT_EQ(BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32), 32);
  EXPECT_EQ(BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32), 32);
  ECDSA_SIG_free(sig);
  return std::string(reinterpret_cast<char*>(raw), 64);
}

std::string rawSha256(const std::string& bytes) {
  unsigned char out[32];
  ::SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), out);
  return std::string(reinterpret_cast<char*>(out), 32);
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class AuditEvidence : public ::testing::Test {
 protected:
  void SetUp() override {
    f.migrate();  // migration 0006 makes the certificates table the node keeps chains in
    requester = f.memberCert({kRequester}, "river-hospital");
    keep(requester);
    keep(f.serverCert);
    caFile = f.dir.path() + "/network-ca.pem";
    auto key = audit::SigningKey::fromPemFile(f.dir.path() + "/audit-ed25519.pem");
    ASSERT_TRUE(key);
    writer = std::make_unique<audit::AuditWriter>(std::make_unique<audit::PgAuditLogStore>(f.db.uri()), *key, "node-a",
                                                  audit::defaultLogOrigin("node-a"), audit::WriterOptions{}, counters);
    auto started = writer->start();
    ASSERT_TRUE(started) << started.error().internal;
  }
  void TearDown() override {
    if (writer) writer->stop();
  }

  void keep(const Credential& leaf) {
    f.db.exec("INSERT INTO certificates (sha256, chain_pem) VALUES ('" + leaf.sha256Fingerprint() + "', '" +
              f.pki.chainPem(leaf) + "') ON CONFLICT DO NOTHING");
  }

  // A served search, signed by the requester (and its answer by this node when answerSigned), committed.
  audit::AuditEvent served(const std::string& requestId, bool requestSigned, bool answerSigned,
                           const Credential* signer = nullptr) {
    const Credential& by = signer != nullptr ? *signer : requester;
    const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
    audit::AuditEvent e;
    e.eventType = "rest";
    e.action = "search";
    e.outcome = "success";
    e.organization = kRequester;
    e.certSha256 = by.sha256Fingerprint();
    e.method = "GET";
    e.path = "/fhir/Patient";
    e.resourceType = "Patient";
    e.patient = "Patient/p-ava";
    e.patientQuery = "urn:oid:1.2.3|MRN-42";
    e.entities = "Patient/p-ava";
    e.purpose = "TREAT";
    e.httpStatus = 200;
    e.requestId = requestId;
    e.resultCount = 1;
    e.signatureCheck = requestSigned ? "verified" : "absent";
    if (requestSigned) {
      e.requestSignatureBase =
          "\"@method\": GET\n\"@target-uri\": https://127.0.0.1:8443/fhir/Patient?identifier=urn:oid:1.2.3%7CMRN-42\n"
          "\"x-purpose-of-use\": TREAT\n\"x-request-id\": " + requestId + "\n"
          "\"@signature-params\": (\"@method\" \"@target-uri\" \"x-purpose-of-use\" \"x-request-id\");created=" +
          std::to_string(now) + ";expires=" + std::to_string(now + 60) + ";nonce=\"n-" + requestId +
          "\";alg=\"ecdsa-p256-sha256\";keyid=\"" + by.sha256Fingerprint() + "\"";
      e.requestSignature = signEcdsa(by.key(), e.requestSignatureBase);
    }
    if (answerSigned) {
      const std::string body = "{\"resourceType\":\"Bundle\"}";
      e.responseSignatureBase = "\"@status\": 200\n\"content-digest\": sha-256=:" + base64Encode(rawSha256(body)) +
                                ":\n\"x-request-id\": " + requestId + "\n" +
                                (requestSigned ? "\"signature\";req;key=\"sig1\": :" + base64Encode(e.requestSignature) + ":\n"
                                               : std::string()) +
                                "\"@signature-params\": (\"@status\" \"content-digest\" \"x-request-id\"" +
                                (requestSigned ? " \"signature\";req;key=\"sig1\"" : "") + ");created=" +
                                std::to_string(now) + ";alg=\"ecdsa-p256-sha256\";keyid=\"" +
                                f.serverCert.sha256Fingerprint() + "\"";
      e.responseSignature = signEcdsa(f.serverCert.key(), e.responseSignatureBase);
    }
    auto index = writer->record(e);
    EXPECT_TRUE(index) << index.error().internal;
    return e;
  }

  CommandResult evidence(const std::vector<std::string>& args) {
    std::vector<std::string> all{"audit", "evidence"};
    all.insert(all.end(), args.begin(), args.end());
    return f.cli(all);
  }

  // VERIFY.txt run in dir, as its first lines say.
  CommandResult verify(const std::string& dir, const std::string& ca) {
    return runProgram({"/bin/sh", "-c", "cd \"$0\" && sh VERIFY.txt", dir}, {{"CA", ca}, {"VERIFY_AUDIT", kScript}});
  }

  std::string bundle(const std::string& requestId) {
    const std::string dir = f.dir.path() + "/evidence-" + requestId;
    auto made = evidence({requestId, "--out", dir});
    EXPECT_EQ(made.exitCode, 0) << made.output;
    return dir;
  }

  // A copy of dir's files in a fresh directory, for altering one.
  std::string copyOf(const std::string& dir, const std::string& name) {
    const std::string to = f.dir.path() + "/" + name;
    auto copied = runProgram({"/bin/cp", "-r", dir, to});
    EXPECT_EQ(copied.exitCode, 0) << copied.output;
    return to;
  }

  NodeFixture f;
  Credential requester;
  std::string caFile;
  Counters counters;
  std::unique_ptr<audit::AuditWriter> writer;
};

TEST_F(AuditEvidence, ABundleVerifiesOfflineWithOpensslAndTheIndependentVerifier) {
  served("other-1", true, true);
  const audit::AuditEvent e = served("req-signed-1", true, true);
  served("other-2", false, false);
  const std::string dir = bundle("req-signed-1");

  // The layout of docs/audit-format.md, "Evidence bundles".
  for (const char* name : {"entry.jsonl", "log-key.vkey", "request-base.txt", "request-signature.bin",
                           "request-signature.der", "requester-chain.pem", "answer-base.txt", "answer-signature.bin",
                           "answer-signature.der", "node-chain.pem", "VERIFY.txt"}) {
    struct stat st {};
    EXPECT_EQ(::stat((dir + "/" + name).c_str(), &st), 0) << name;
  }
  EXPECT_EQ(readAll(dir + "/request-base.txt"), e.requestSignatureBase);
  EXPECT_EQ(readAll(dir + "/request-signature.bin"), e.requestSignature);
  EXPECT_EQ(readAll(dir + "/answer-base.txt"), e.responseSignatureBase);
  EXPECT_EQ(readAll(dir + "/requester-chain.pem"), f.pki.chainPem(requester));
  EXPECT_EQ(readAll(dir + "/node-chain.pem"), f.pki.chainPem(f.serverCert));
  const std::string entry = readAll(dir + "/entry.jsonl");
  EXPECT_EQ(entry.find("{\"entry\":{\"action\":\"search\""), 0u) << entry;
  EXPECT_NE(entry.find("\"requestId\":\"req-signed-1\""), std::string::npos) << entry;
  EXPECT_EQ(std::count(entry.begin(), entry.end(), '\n'), 1);
  EXPECT_EQ(readAll(dir + "/log-key.vkey").rfind("hie-node/node-a/audit+", 0), 0u);

  auto ok = verify(dir, caFile);
  EXPECT_EQ(ok.exitCode, 0) << ok.output;
  EXPECT_TRUE(contains(ok.output, "Verified OK")) << ok.output;
  EXPECT_TRUE(contains(ok.output, "requester-chain.pem: OK")) << ok.output;
  EXPECT_TRUE(contains(ok.output, "node-chain.pem: OK")) << ok.output;
  EXPECT_TRUE(contains(ok.output, "OK: 1 lines verified")) << ok.output;
  EXPECT_TRUE(contains(ok.output, "organization: " + kRequester)) << ok.output;
  EXPECT_TRUE(contains(ok.output, "purpose: TREAT")) << ok.output;
  EXPECT_TRUE(contains(ok.output, "OK: every check of this evidence bundle passed")) << ok.output;

  // (a) a request base altered by one byte: the signature no longer verifies.
  std::string altered = copyOf(dir, "altered-base");
  std::string base = e.requestSignatureBase;
  base.replace(base.find("TREAT"), 5, "HOPER");
  writeFile(altered, "request-base.txt", base);
  auto bad = verify(altered, caFile);
  EXPECT_NE(bad.exitCode, 0) << bad.output;
  EXPECT_TRUE(contains(bad.output, "Verification failure")) << bad.output;
  EXPECT_FALSE(contains(bad.output, "every check of this evidence bundle passed")) << bad.output;

  // (b) another network's trust anchor: the requester's chain does not verify to it.
  const TestPki other = TestPki::create();
  const std::string otherCa = writeFile(f.dir.path(), "other-ca.pem", other.root.certPem());
  bad = verify(dir, otherCa);
  EXPECT_NE(bad.exitCode, 0) << bad.output;
  EXPECT_FALSE(contains(bad.output, "requester-chain.pem: OK")) << bad.output;
  EXPECT_TRUE(contains(bad.output, "unable to get local issuer certificate")) << bad.output;

  // (c) the answer's base no longer names the request's signature (re-signed by the node, so only
  // the req line tells).
  altered = copyOf(dir, "altered-answer");
  std::string answerBase = e.responseSignatureBase;
  const std::string reqLine = "\"signature\";req;key=\"sig1\": :" + base64Encode(e.requestSignature) + ":\n";
  answerBase.replace(answerBase.find(reqLine), reqLine.size(),
                     "\"signature\";req;key=\"sig1\": :" + base64Encode(std::string(64, '\x01')) + ":\n");
  writeFile(altered, "answer-base.txt", answerBase);
  const std::string answerSig = signEcdsa(f.serverCert.key(), answerBase);
  writeFile(altered, "answer-signature.bin", answerSig);
  writeFile(altered, "answer-signature.der", *audit::ecdsaSignatureDer(answerSig));
  bad = verify(altered, caFile);
  EXPECT_NE(bad.exitCode, 0) << bad.output;
  EXPECT_EQ(occurrences(bad.output, "Verified OK"), 2u) << bad.output;  // both signatures verify
  EXPECT_FALSE(contains(bad.output, "OK: 1 lines verified")) << bad.output;  // it stopped at the req line

  // (d) the entry altered (another purpose): its inclusion proof fails; the entry's base altered with
  // the bundle's: the request signature fails.
  altered = copyOf(dir, "altered-entry");
  std::string line = entry;
  line.replace(line.find("\"purpose\":\"TREAT\""), 17, "\"purpose\":\"HOPER\"");
  writeFile(altered, "entry.jsonl", line);
  bad = verify(altered, caFile);
  EXPECT_NE(bad.exitCode, 0) << bad.output;
  EXPECT_TRUE(contains(bad.output, "FAIL")) << bad.output;
  EXPECT_TRUE(contains(bad.output, "the inclusion proof does not verify")) << bad.output;
  // The bundle's request base no longer what the entry records, though validly signed by the requester
  // (re-signed here): only the comparison with the entry tells.
  altered = copyOf(dir, "altered-request");
  const std::string otherBase = e.requestSignatureBase + " ";
  const std::string otherSig = signEcdsa(requester.key(), otherBase);
  writeFile(altered, "request-base.txt", otherBase);
  writeFile(altered, "request-signature.bin", otherSig);
  writeFile(altered, "request-signature.der", *audit::ecdsaSignatureDer(otherSig));
  // ...and an answer (re-signed by the node's key) covering that signature, so (a) to (c) pass.
  std::string otherAnswer = e.responseSignatureBase;
  otherAnswer.replace(otherAnswer.find(reqLine), reqLine.size(),
                      "\"signature\";req;key=\"sig1\": :" + base64Encode(otherSig) + ":\n");
  const std::string otherAnswerSig = signEcdsa(f.serverCert.key(), otherAnswer);
  writeFile(altered, "answer-base.txt", otherAnswer);
  writeFile(altered, "answer-signature.bin", otherAnswerSig);
  writeFile(altered, "answer-signature.der", *audit::ecdsaSignatureDer(otherAnswerSig));
  bad = verify(altered, caFile);
  EXPECT_NE(bad.exitCode, 0) << bad.output;
  EXPECT_EQ(occurrences(bad.output, "Verified OK"), 2u) << bad.output;  // both signatures verify
  EXPECT_TRUE(contains(bad.output, "cmp:")) << bad.output;  // the entry records another base
  EXPECT_FALSE(contains(bad.output, "every check of this evidence bundle passed")) << bad.output;
}

TEST_F(AuditEvidence, AnUnsignedAnswerIsSaidAndTheRequestStillVerifies) {
  served("req-no-answer", true, false);
  const std::string dir = f.dir.path() + "/no-answer";
  auto made = evidence({"req-no-answer", "--out", dir});
  EXPECT_EQ(made.exitCode, 0) << made.output;
  EXPECT_TRUE(contains(made.output, "the answer to request req-no-answer was not signed")) << made.output;
  struct stat st {};
  EXPECT_NE(::stat((dir + "/answer-base.txt").c_str(), &st), 0);
  EXPECT_TRUE(contains(readAll(dir + "/VERIFY.txt"), "(c) The answer was not signed")) << readAll(dir + "/VERIFY.txt");
  auto ok = verify(dir, caFile);
  EXPECT_EQ(ok.exitCode, 0) << ok.output;
  EXPECT_TRUE(contains(ok.output, "OK: every check of this evidence bundle passed")) << ok.output;
}

TEST_F(AuditEvidence, RefusalsAndUsageErrors) {
  served("req-unsigned", false, true);
  served("req-twice", true, true);
  served("req-twice", true, true);
  audit::AuditEvent call;
  call.eventType = "rest";
  call.action = "peer-call";
  call.outcome = "success";
  call.requestId = "req-call";
  ASSERT_TRUE(writer->record(call));
  const std::string out = f.dir.path() + "/out";

  auto r = evidence({"no-such-request", "--out", out});
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "the audit log holds no entry of a request this node served with request id "
                                 "no-such-request")) << r.output;
  r = evidence({"req-call", "--out", out});
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "only this node's own calls to peers carry it")) << r.output;
  r = evidence({"req-unsigned", "--out", out});
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "carries no request signature")) << r.output;
  EXPECT_TRUE(contains(r.output, "signature check: absent")) << r.output;
  r = evidence({"req-twice", "--out", out});
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "choose one with --index N")) << r.output;
  struct stat st {};
  EXPECT_NE(::stat(out.c_str(), &st), 0) << "nothing is written on a refusal";
  // --index picks one of them.
  r = evidence({"req-twice", "--out", out, "--index", "2"});
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_TRUE(contains(readAll(out + "/entry.jsonl"), "\"index\":2,")) << readAll(out + "/entry.jsonl");

  // Without --out the bundle goes to evidence-REQUEST_ID here; this one is refused (two signed entries
  // share the id), and nothing is written.
  EXPECT_EQ(evidence({"req-twice"}).exitCode, 1);
  EXPECT_FALSE(std::filesystem::exists("evidence-req-twice"));
  // Usage: DIR not empty, an empty --out, no or two request ids, a malformed one, a bad --index.
  EXPECT_EQ(evidence({"req-twice", "--out", out, "--index", "1"}).exitCode, 2);
  EXPECT_EQ(evidence({"req-twice", "--out", ""}).exitCode, 2);
  EXPECT_EQ(evidence({"--out", f.dir.path() + "/x"}).exitCode, 2);
  EXPECT_EQ(evidence({"a", "b", "--out", f.dir.path() + "/x"}).exitCode, 2);
  EXPECT_EQ(evidence({"a b", "--out", f.dir.path() + "/x"}).exitCode, 2);
  EXPECT_EQ(evidence({"a", "--out", f.dir.path() + "/x", "--index", "-1"}).exitCode, 2);
  // A chain the node does not keep: no bundle.
  const Credential stranger = f.memberCert({kRequester}, "not-kept");
  served("req-stranger", true, true, &stranger);
  r = evidence({"req-stranger", "--out", f.dir.path() + "/y"});
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "keeps no chain for the requester's certificate " + stranger.sha256Fingerprint()))
      << r.output;
}

}  // namespace
}  // namespace hie::testing

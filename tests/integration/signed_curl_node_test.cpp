// Signed requests end to end with a client that is not hie-node (issue 14): a real node, member
// organizations with a grant and the demo records, and curl + openssl as the client, through
// scripts/signed-curl and through the shell commands of docs/api.md as written. The node verifies
// what they sign (EC P-256, RSA, Ed25519; GET and POST), refuses what it must with the documented
// 401, signs its answers so that openssl alone checks them (the recipe of docs/api.md), and keeps
// evidence that `hie-node audit evidence` bundles and VERIFY.txt checks offline.
#include <gtest/gtest.h>

#include <strings.h>

#include <fstream>
#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <pqxx/pqxx>

#include "audit/signing_key.h"
#include "auth/signatures/message_key.h"
#include "common/base64.h"
#include "tests/support/node_fixture.h"
#include "tests/support/signed_requests.h"
#include "tests/support/signing_identity.h"

namespace hie::testing {
namespace {

const std::string kSignedCurl = std::string(HIE_SOURCE_DIR) + "/scripts/signed-curl";
const std::string kVerifyAudit = std::string(HIE_SOURCE_DIR) + "/scripts/verify-audit";
const std::string kApiDoc = std::string(HIE_SOURCE_DIR) + "/docs/api.md";
const std::string kPatientPath = "/fhir/Patient/p-ava";
const std::string kAcceptSignature =
    "sig1=(\"@method\" \"@target-uri\" \"x-purpose-of-use\" \"x-request-id\");created;expires;nonce;keyid";

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The n-th (0-based) fenced ```sh block of the section of docs/api.md under the heading line
// `heading` (up to the next heading); "" when there is none.
std::string shellBlock(const std::string& heading, int n = 0) {
  std::istringstream doc(readAll(kApiDoc));
  std::string line, block;
  bool inSection = false, inCode = false, wanted = false;
  while (std::getline(doc, line)) {
    if (!inSection) {
      inSection = line == heading;
      continue;
    }
    if (!inCode && line.rfind("#", 0) == 0) break;  // the next heading
    if (line.rfind("```", 0) == 0) {
      if (inCode) {
        if (wanted) return block;
        inCode = false;
      } else {
        inCode = true;
        wanted = line == "```sh" && n-- == 0;
      }
      continue;
    }
    if (inCode && wanted) block += line + "\n";
  }
  return "";
}

// What curl received: status, header fields (as in the file -D wrote) and body.
struct Answer {
  int exitCode = -1;
  std::string output;  // curl's stdout and stderr: the status (-w) and any error
  int status = 0;
  std::string head, body;

  // The value of a header field, "" when absent (case-insensitive name, CR removed).
  std::string header(const std::string& name) const {
    std::istringstream lines(head);
    std::string line;
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const auto colon = line.find(':');
      if (colon == std::string::npos || colon != name.size()) continue;
      if (strcasecmp(line.substr(0, colon).c_str(), name.c_str()) != 0) continue;
      const auto start = line.find_first_not_of(' ', colon + 1);
      return start == std::string::npos ? "" : line.substr(start);
    }
    return "";
  }
};

// A --dry-run of signed-curl: the signature base and the header fields it would send.
struct DryRun {
  std::string base;
  std::vector<std::string> headerLines;  // "Name: value"
};

// A client of the network: a certificate of the test PKI (a key of the given type) and its files.
struct Client {
  std::string org;
  SigningIdentity id;
  std::string certFile;  // leaf, then the issuing CA (what curl must send)
  std::string leafFile;  // the leaf alone (to pin it)
  std::string keyFile;
};

class SignedCurlNode : public ::testing::Test {
 protected:
  // A member organization whose client certificate (key type `key`) is pinned to it, with a grant
  // to read and search Patient for TREAT.
  Client member(const std::string& org, SignerKey key, const std::string& name) {
    Client c;
    c.org = org;
    c.id = SigningIdentity::issue(f.pki, key, name);
    c.certFile = writeFile(f.dir.path(), name + ".crt", c.id.certPem + f.pki.intermediate.certPem());
    c.leafFile = writeFile(f.dir.path(), name + "-leaf.crt", c.id.certPem);
    c.keyFile = writeFile(f.dir.path(), name + ".key", c.id.keyPem);
    return c;
  }

  // Migrates, registers the clients' organizations with their grant, imports the demo records,
  // starts the node with `config` as set.
  void start(const std::vector<const Client*>& clients) {
    f.writeConfig();
    f.migrate();
    for (const Client* c : clients) {
      f.addOrg(c->org, "Member " + c->org, {"--pin-cert", c->leafFile});
      auto g = f.cli({"grant", "add", "--org", c->org, "--resource", "Patient", "--action", "read,search", "--purpose",
                      "TREAT"});
      ASSERT_EQ(g.exitCode, 0) << g.output;
    }
    auto r = f.cli({"records", "import", std::string(HIE_SOURCE_DIR) + "/config/demo/bundle.json"});
    ASSERT_EQ(r.exitCode, 0) << r.output;
    f.start();
  }

  std::string origin() { return "https://127.0.0.1:" + std::to_string(f.node()->port()); }
  std::string caFile() const { return f.dir.path() + "/network-ca.pem"; }

  // curl's options to keep the answer: its header fields and body in files under name, the status on stdout.
  std::vector<std::string> keepAnswer(const std::string& name) {
    return {"-D", f.dir.path() + "/" + name + ".head", "-o", f.dir.path() + "/" + name + ".body", "-w", "%{http_code}"};
  }
  Answer answerOf(const CommandResult& r, const std::string& name) {
    Answer a;
    a.exitCode = r.exitCode;
    a.output = r.output;
    a.head = readAll(f.dir.path() + "/" + name + ".head");
    a.body = readAll(f.dir.path() + "/" + name + ".body");
    if (r.exitCode == 0) a.status = std::atoi(r.output.c_str());
    return a;
  }

  // scripts/signed-curl as client c, with options (--purpose, --request-id, --data) and the URL.
  Answer signedCurl(const Client& c, const std::vector<std::string>& options, const std::string& name) {
    std::vector<std::string> argv{kSignedCurl, "--cert", c.certFile, "--key", c.keyFile, "--cacert", caFile()};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back("--");
    for (const auto& o : keepAnswer(name)) argv.push_back(o);
    return answerOf(runProgram(argv), name);
  }

  DryRun dryRun(const Client& c, const std::vector<std::string>& options) {
    std::vector<std::string> argv{kSignedCurl, "--cert", c.certFile, "--key", c.keyFile, "--dry-run"};
    argv.insert(argv.end(), options.begin(), options.end());
    const CommandResult r = runProgram(argv);
    EXPECT_EQ(r.exitCode, 0) << r.output;
    DryRun out;
    const std::string baseMark = "signature base:\n", fieldsMark = "\nheader fields:\n";
    const auto fields = r.output.find(fieldsMark);
    if (r.output.rfind(baseMark, 0) != 0 || fields == std::string::npos) {
      ADD_FAILURE() << "unexpected --dry-run output:\n" << r.output;
      return out;
    }
    out.base = r.output.substr(baseMark.size(), fields - baseMark.size());
    std::istringstream lines(r.output.substr(fields + fieldsMark.size()));
    std::string line;
    while (std::getline(lines, line)) {
      if (!line.empty()) out.headerLines.push_back(line);
    }
    return out;
  }

  // Plain curl over the TLS identity of c with these header lines (none: an unsigned request).
  Answer curl(const Client& c, const std::string& path, const std::vector<std::string>& headerLines,
              const std::string& name, const std::string& dataFile = "") {
    std::vector<std::string> argv{"/usr/bin/curl", "--silent", "--show-error", "--path-as-is", "--cert", c.certFile,
                                  "--key", c.keyFile, "--cacert", caFile()};
    for (const auto& h : headerLines) argv.insert(argv.end(), {"-H", h});
    if (!dataFile.empty()) argv.insert(argv.end(), {"--data-binary", "@" + dataFile});
    for (const auto& o : keepAnswer(name)) argv.push_back(o);
    argv.push_back(origin() + path);
    return answerOf(runProgram(argv), name);
  }

  // The one audit entry of requestId (its v2 leaf).
  Poco::JSON::Object::Ptr entry(const std::string& requestId, std::size_t nth = 0) {
    pqxx::connection c(f.db.uri());
    pqxx::read_transaction tx(c);
    auto rows = tx.exec_params("SELECT leaf FROM audit_log_entries WHERE request_id = $1 ORDER BY idx", requestId);
    if (rows.size() <= nth) {
      ADD_FAILURE() << rows.size() << " entries for " << requestId;
      return new Poco::JSON::Object;
    }
    return Poco::JSON::Parser().parse(rows[nth][0].as<std::string>()).extract<Poco::JSON::Object::Ptr>();
  }

  // A signed request's evidence in the audit entry: verified, and its base verifies with c's key.
  void expectVerifiedEvidence(const Client& c, const std::string& requestId, const std::string& expectedBase = "") {
    SCOPED_TRACE(requestId);
    auto e = entry(requestId);
    EXPECT_EQ(e->optValue<std::string>("signatureCheck", ""), "verified");
    EXPECT_EQ(e->optValue<std::string>("certSha256", ""), c.id.keyId);
    const std::string base = auditDecoded(e->optValue<std::string>("requestSignatureBase", ""));
    std::string signature;
    ASSERT_TRUE(base64Decode(e->optValue<std::string>("requestSignature", ""), signature));
    if (!expectedBase.empty()) {
      EXPECT_EQ(base, expectedBase);
    }
    EXPECT_TRUE(contains(base, "\"x-request-id\": " + requestId + "\n")) << base;
    EXPECT_TRUE(contains(base, "keyid=\"" + c.id.keyId + "\"")) << base;
    auto key = auth::MessageVerifyingKey::fromSpki(c.id.spkiDer);
    ASSERT_TRUE(key) << key.error().internal;
    EXPECT_TRUE(key->verify(base, signature)) << base;
    EXPECT_FALSE(key->verify(base + " ", signature));
  }

  // The documented 401: OperationOutcome "security", WWW-Authenticate with the reason,
  // Accept-Signature; audited as denied with that reason, before any handler (action "rest", but
  // "witness" under /witness/: docs/audit-format.md).
  void expectRefused(const Answer& a, const std::string& requestId, const std::string& reason,
                     const std::string& action = "rest") {
    SCOPED_TRACE(reason);
    ASSERT_EQ(a.exitCode, 0) << a.output;
    EXPECT_EQ(a.status, 401) << a.head << a.body;
    EXPECT_TRUE(contains(a.body, "\"resourceType\":\"OperationOutcome\"")) << a.body;
    EXPECT_TRUE(contains(a.body, "\"code\":\"security\"")) << a.body;
    EXPECT_EQ(a.header("WWW-Authenticate"), "HttpSignature realm=\"hie-node\", error=\"" + reason + "\"") << a.head;
    EXPECT_EQ(a.header("Accept-Signature"), kAcceptSignature) << a.head;
    auto e = entry(requestId, reason == "signature_replayed" ? 1 : 0);
    EXPECT_EQ(e->optValue<std::string>("outcome", ""), "denied");
    EXPECT_EQ(e->optValue<std::string>("outcomeReason", ""), reason);
    EXPECT_EQ(e->optValue<std::string>("signatureCheck", ""), reason);
    EXPECT_EQ(e->optValue<std::string>("action", ""), action);  // no handler: a read would say "read"
  }

  // The recipe of docs/api.md "What a signed answer carries", run with bash in the directory of
  // the answer's files (answer-headers.txt, answer.json) with the example's variables.
  CommandResult checkAnswerWithOpenssl(const Answer& a, const Client& c, const std::string& requestSignature,
                                       const std::string& name) {
    const std::string dir = f.dir.path() + "/answer-" + name;
    EXPECT_EQ(runProgram({"/bin/mkdir", "-p", dir}).exitCode, 0);
    writeFile(dir, "answer-headers.txt", a.head);
    writeFile(dir, "answer.json", a.body);
    const std::string recipe = shellBlock("### What a signed answer carries");
    EXPECT_FALSE(recipe.empty()) << "no sh block under \"What a signed answer carries\" in docs/api.md";
    writeFile(dir, "recipe.sh", "set -eu\n" + recipe);
    return runProgram({"/bin/bash", "-c", "cd \"$0\" && bash recipe.sh", dir},
                      {{"HOST", "127.0.0.1:" + std::to_string(f.node()->port())},
                       {"CERT", c.certFile},
                       {"KEY", c.keyFile},
                       {"CA", caFile()},
                       {"SIG", requestSignature}});
  }

  // The value of the request's Signature member sig1, as sent: what follows "sig1=:" up to ":".
  static std::string signatureOf(const DryRun& run) {
    for (const auto& line : run.headerLines) {
      if (line.rfind("Signature: sig1=:", 0) == 0) return line.substr(17, line.size() - 18);
    }
    return "";
  }

  void runWorkedExample(const Client& c, const std::string& example, const std::string& name);

  NodeFixture f;
};

TEST_F(SignedCurlNode, SignedReadsOfEachKeyTypeAreServedAndAuditedAsVerified) {
  const Client ec = member("urn:oid:2.16.840.1.113883.3.7001", SignerKey::kEcP256, "lakeside");
  const Client rsa = member("urn:oid:2.16.840.1.113883.3.7002", SignerKey::kRsa2048, "river");
  const Client ed = member("urn:oid:2.16.840.1.113883.3.7003", SignerKey::kEd25519, "hilltop");
  start({&ec, &rsa, &ed});
  for (const Client* c : {&ec, &rsa, &ed}) {
    const std::string requestId = "curl-read-" + c->id.keyId.substr(0, 8);
    SCOPED_TRACE(requestId);
    Answer a = signedCurl(*c, {"--purpose", "TREAT", "--request-id", requestId, origin() + kPatientPath}, requestId);
    ASSERT_EQ(a.exitCode, 0) << a.output;
    EXPECT_EQ(a.status, 200) << a.head << a.body << f.node()->log();
    EXPECT_TRUE(contains(a.body, "Ava Lindqvist")) << a.body;
    EXPECT_EQ(entry(requestId)->optValue<std::string>("action", ""), "read");
    expectVerifiedEvidence(*c, requestId);
    // A search, whose target has a query with a percent-encoded bar (covered as sent).
    const std::string searchId = requestId + "-search";
    a = signedCurl(*c,
                   {"--purpose", "TREAT", "--request-id", searchId,
                    origin() + "/fhir/Patient?identifier=urn:oid:2.16.840.1.113883.3.7000.1%7CNET-1001"},
                   searchId);
    EXPECT_EQ(a.status, 200) << a.output << a.head << a.body;
    EXPECT_TRUE(contains(a.body, "\"total\":1")) << a.body;
    expectVerifiedEvidence(*c, searchId);
  }
  EXPECT_EQ(f.node()->counter("hie_request_signature_checks_total{outcome=\"verified\"}"), 6u);
}

TEST_F(SignedCurlNode, WhatTheDryRunPrintsIsWhatTheNodeRecordsAndTheAnswerChecksWithOpensslAlone) {
  const Client c = member("urn:oid:2.16.840.1.113883.3.7001", SignerKey::kEcP256, "lakeside");
  start({&c});
  const DryRun run = dryRun(c, {"--purpose", "TREAT", "--request-id", "dry-1", origin() + kPatientPath});
  Answer a = curl(c, kPatientPath, run.headerLines, "dry-1");
  ASSERT_EQ(a.exitCode, 0) << a.output;
  ASSERT_EQ(a.status, 200) << a.head << a.body;
  expectVerifiedEvidence(c, "dry-1", run.base);

  // docs/api.md's recipe checks the answer with openssl, naming the request's signature.
  ASSERT_FALSE(signatureOf(run).empty());
  auto checked = checkAnswerWithOpenssl(a, c, signatureOf(run), "dry-1");
  EXPECT_EQ(checked.exitCode, 0) << checked.output << "\n" << a.head;
  EXPECT_TRUE(contains(checked.output, "digest OK")) << checked.output;
  EXPECT_TRUE(contains(checked.output, "Verified OK")) << checked.output;
  // The same recipe on an altered body, or naming another request's signature, fails.
  Answer altered = a;
  altered.body += " ";
  auto bad = checkAnswerWithOpenssl(altered, c, signatureOf(run), "dry-1-altered");
  EXPECT_FALSE(contains(bad.output, "digest OK")) << bad.output;
  const DryRun other = dryRun(c, {"--purpose", "TREAT", "--request-id", "dry-1", origin() + kPatientPath});
  bad = checkAnswerWithOpenssl(a, c, signatureOf(other), "dry-1-other");
  EXPECT_NE(bad.exitCode, 0) << bad.output;
  EXPECT_TRUE(contains(bad.output, "Verification failure")) << bad.output;

  // The same signed request again: a replay.
  expectRefused(curl(c, kPatientPath, run.headerLines, "dry-1-again"), "dry-1", "signature_replayed");
}

TEST_F(SignedCurlNode, ForeignKeysAndAlteredHeadersAreRefused) {
  const Client c = member("urn:oid:2.16.840.1.113883.3.7001", SignerKey::kEcP256, "lakeside");
  const Client other = member("urn:oid:2.16.840.1.113883.3.7002", SignerKey::kEcP256, "river");
  start({&c, &other});
  // Signed by another member's key (its certificate and keyid), sent over c's connection.
  DryRun run = dryRun(other, {"--purpose", "TREAT", "--request-id", "foreign-1", origin() + kPatientPath});
  expectRefused(curl(c, kPatientPath, run.headerLines, "foreign-1"), "foreign-1", "signature_key_mismatch");
  // Signed with the other key but claiming c's keyid: the base names c's keyid, the signature is
  // the other key's.
  run = dryRun(other, {"--purpose", "TREAT", "--request-id", "foreign-2", origin() + kPatientPath});
  for (auto& line : run.headerLines) {
    const auto at = line.find(other.id.keyId);
    if (line.rfind("Signature-Input:", 0) == 0 && at != std::string::npos) line.replace(at, 64, c.id.keyId);
  }
  expectRefused(curl(c, kPatientPath, run.headerLines, "foreign-2"), "foreign-2", "signature_invalid");
  // A header changed after signing: another purpose of use.
  run = dryRun(c, {"--purpose", "TREAT", "--request-id", "altered-1", origin() + kPatientPath});
  for (auto& line : run.headerLines) {
    if (line == "X-Purpose-Of-Use: TREAT") line = "X-Purpose-Of-Use: HOPERAT";
  }
  expectRefused(curl(c, kPatientPath, run.headerLines, "altered-1"), "altered-1", "signature_invalid");
  // Another path than the one signed.
  run = dryRun(c, {"--purpose", "TREAT", "--request-id", "altered-2", origin() + kPatientPath});
  expectRefused(curl(c, "/fhir/Patient/p-ben", run.headerLines, "altered-2"), "altered-2", "signature_invalid");
  EXPECT_EQ(f.node()->counter("hie_refusals_total{stage=\"signature\",reason=\"signature_invalid\"}"), 3u);
}

TEST_F(SignedCurlNode, UnderRequireAnUnsignedCurlIsRefusedAndASignedOneServed) {
  const Client c = member("urn:oid:2.16.840.1.113883.3.7001", SignerKey::kRsa2048, "river");
  f.config["signatures.requests"] = "require";
  start({&c});
  Answer a = curl(c, kPatientPath, {"X-Purpose-Of-Use: TREAT", "X-Request-Id: unsigned-1"}, "unsigned-1");
  expectRefused(a, "unsigned-1", "signature_missing");
  EXPECT_FALSE(a.header("Signature").empty()) << "refusals are signed too\n" << a.head;
  a = signedCurl(c, {"--purpose", "TREAT", "--request-id", "signed-1", origin() + kPatientPath}, "signed-1");
  EXPECT_EQ(a.status, 200) << a.output << a.head << a.body;
  expectVerifiedEvidence(c, "signed-1");
}

TEST_F(SignedCurlNode, ASignedPostReachesTheWitnessAndItsDigestIsChecked) {
  const Client c = member("urn:oid:2.16.840.1.113883.3.7001", SignerKey::kEd25519, "hilltop");
  writeFile(f.dir.path(), "witness-ed25519.pem", audit::SigningKey::generate()->privatePem());
  f.config["witness.signingKey"] = "witness-ed25519.pem";
  f.config["signatures.requests"] = "require";
  start({&c});
  // A well-formed submission of a checkpoint of a log this witness does not know: the witness
  // logic refuses it (404 witness_unknown_origin), after the signature verified.
  const std::string body = "old 0\n\nhie-node/elsewhere/audit\n1\n" + base64Encode(std::string(32, '\x01')) +
                           "\n\n\xE2\x80\x94 hie-node/elsewhere/audit " + base64Encode(std::string(68, '\x02')) + "\n";
  const std::string bodyFile = writeFile(f.dir.path(), "checkpoint.txt", body);
  const std::string url = origin() + "/witness/add-checkpoint";
  Answer a = signedCurl(c, {"--request-id", "post-1", "--data", bodyFile, url}, "post-1");
  ASSERT_EQ(a.exitCode, 0) << a.output;
  EXPECT_NE(a.status, 401) << a.head << a.body;
  EXPECT_EQ(a.status, 404) << a.head << a.body;
  auto e = entry("post-1");
  EXPECT_EQ(e->optValue<std::string>("action", ""), "witness");
  EXPECT_EQ(e->optValue<std::string>("outcomeReason", ""), "witness_unknown_origin");
  expectVerifiedEvidence(c, "post-1");
  const std::string base = auditDecoded(e->optValue<std::string>("requestSignatureBase", ""));
  EXPECT_TRUE(contains(base, "\"@method\": POST\n")) << base;
  EXPECT_TRUE(contains(base, "\"content-digest\": sha-256=:")) << base;
  EXPECT_FALSE(contains(base, "x-purpose-of-use")) << base;

  // The same signed headers with another body: the digest no longer matches.
  const DryRun run = dryRun(c, {"--request-id", "post-2", "--data", bodyFile, url});
  const std::string otherBody = writeFile(f.dir.path(), "other.txt", "old 1\n" + body.substr(6));
  std::vector<std::string> headers = run.headerLines;
  // (An OperationOutcome: the witness itself answers text.)
  expectRefused(curl(c, "/witness/add-checkpoint", headers, "post-2", otherBody), "post-2",
                "content_digest_mismatch", "witness");
}

// docs/api.md's worked example, `example` (its shell commands), run "in a shell in the demo's pki
// directory with NODE set" as client c (its certificate followed by the issuing CA in lakeside.crt),
// then the check of its answer ("What a signed answer carries") in the same shell: it uses the
// example's variables.
void SignedCurlNode::runWorkedExample(const Client& c, const std::string& example, const std::string& name) {
  SCOPED_TRACE(name);
  const std::string pki = f.dir.path() + "/pki-" + name;
  ASSERT_EQ(runProgram({"/bin/mkdir", "-p", pki}).exitCode, 0);
  writeFile(pki, "lakeside.crt", readAll(c.certFile));
  writeFile(pki, "lakeside.key", c.id.keyPem);
  writeFile(pki, "network-ca.pem", f.pki.root.certPem());
  ASSERT_TRUE(contains(example, "curl ")) << "no sh block under the worked example in docs/api.md";
  const std::string check = shellBlock("### What a signed answer carries");
  ASSERT_FALSE(check.empty());
  writeFile(pki, "example.sh", "set -eu\n" + example + "echo \"request id: $REQUEST_ID\"\n" + check);
  auto r = runProgram({"/bin/bash", "-c", "cd \"$0\" && bash example.sh", pki}, {{"NODE", origin()}});
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "200\n")) << r.output;
  EXPECT_TRUE(contains(r.output, "digest OK")) << r.output;
  EXPECT_TRUE(contains(r.output, "Verified OK")) << r.output;
  EXPECT_TRUE(contains(readAll(pki + "/answer.json"), "\"total\":1")) << readAll(pki + "/answer.json");
  const auto at = r.output.find("request id: ");
  ASSERT_NE(at, std::string::npos) << r.output;
  const std::string requestId = r.output.substr(at + 12, 32);
  expectVerifiedEvidence(c, requestId, readAll(pki + "/base.txt"));
}

TEST_F(SignedCurlNode, TheWorkedExampleOfTheDocsRunsAsWritten) {
  const Client c = member("urn:oid:2.16.840.1.113883.3.7001", SignerKey::kEcP256, "lakeside");
  start({&c});
  runWorkedExample(c, shellBlock("### Worked example: EC P-256 with openssl and curl"), "ec");
}

// "RSA and Ed25519: the same, with that alg in PARAMS and these lines in place of the two ECDSA
// lines" (from its "# ECDSA" comment to the command that sets SIG), done as the text says.
TEST_F(SignedCurlNode, TheWorkedExampleRunsWithRsaAndEd25519KeysAsItsTextSays) {
  const Client rsa = member("urn:oid:2.16.840.1.113883.3.7002", SignerKey::kRsa2048, "river");
  const Client ed = member("urn:oid:2.16.840.1.113883.3.7003", SignerKey::kEd25519, "hilltop");
  start({&rsa, &ed});
  const std::string heading = "### Worked example: EC P-256 with openssl and curl";
  const std::string example = shellBlock(heading);
  const std::string others = shellBlock(heading, 2);
  const auto ecdsaFrom = example.find("# ECDSA");
  const auto ecdsaTo = example.find("base64 -w0)\n", ecdsaFrom);
  const auto rsaFrom = others.find("# RSA");
  const auto edFrom = others.find("# Ed25519");
  ASSERT_TRUE(ecdsaFrom != std::string::npos && ecdsaTo != std::string::npos && rsaFrom != std::string::npos &&
              edFrom != std::string::npos)
      << example << others;
  const auto variant = [&](const std::string& alg, const std::string& lines) {
    std::string text = example;
    text.replace(ecdsaFrom, ecdsaTo + 12 - ecdsaFrom, lines);
    const std::string ecAlg = "alg=\\\"ecdsa-p256-sha256\\\"";
    const auto at = text.find(ecAlg);
    EXPECT_NE(at, std::string::npos) << text;
    if (at != std::string::npos) text.replace(at, ecAlg.size(), "alg=\\\"" + alg + "\\\"");
    return text;
  };
  runWorkedExample(rsa, variant("rsa-pss-sha512", others.substr(rsaFrom, edFrom - rsaFrom)), "rsa");
  runWorkedExample(ed, variant("ed25519", others.substr(edFrom)), "ed25519");
}

TEST_F(SignedCurlNode, TheEvidenceOfASignedCurlRequestVerifiesOffline) {
  const Client c = member("urn:oid:2.16.840.1.113883.3.7001", SignerKey::kEcP256, "lakeside");
  start({&c});
  const Answer a = signedCurl(c,
                              {"--purpose", "TREAT", "--request-id", "evidence-1",
                               origin() + "/fhir/Patient?identifier=urn:oid:2.16.840.1.113883.3.7000.1%7CNET-1001"},
                              "evidence-1");
  ASSERT_EQ(a.status, 200) << a.output << a.head << a.body;
  const std::string dir = f.dir.path() + "/evidence";
  auto made = f.cli({"audit", "evidence", "evidence-1", "--out", dir});
  ASSERT_EQ(made.exitCode, 0) << made.output;
  // What the client received is what the bundle says the node answered.
  const std::string answerBase = readAll(dir + "/answer-base.txt");
  EXPECT_TRUE(contains(answerBase, "\"content-digest\": " + a.header("Content-Digest") + "\n")) << answerBase;
  EXPECT_TRUE(contains(answerBase, "\"@signature-params\": " + a.header("Signature-Input").substr(5))) << answerBase;
  std::string answerSignature;
  const std::string sigField = a.header("Signature");
  ASSERT_TRUE(base64Decode(sigField.substr(6, sigField.size() - 7), answerSignature)) << sigField;
  EXPECT_EQ(readAll(dir + "/answer-signature.bin"), answerSignature);

  auto ok = runProgram({"/bin/sh", "-c", "cd \"$0\" && sh VERIFY.txt", dir}, {{"CA", caFile()}, {"VERIFY_AUDIT", kVerifyAudit}});
  EXPECT_EQ(ok.exitCode, 0) << ok.output;
  EXPECT_TRUE(contains(ok.output, "requester-chain.pem: OK")) << ok.output;
  EXPECT_TRUE(contains(ok.output, "node-chain.pem: OK")) << ok.output;
  EXPECT_TRUE(contains(ok.output, "organization: urn:oid:2.16.840.1.113883.3.7001")) << ok.output;
  EXPECT_TRUE(contains(ok.output, "purpose: TREAT")) << ok.output;
  EXPECT_TRUE(contains(ok.output, "OK: every check of this evidence bundle passed")) << ok.output;
}

}  // namespace
}  // namespace hie::testing

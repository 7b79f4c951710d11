// scripts/signed-curl, the documented way for a client that is not hie-node to sign its requests
// (docs/api.md, "Signed requests and answers"): its --dry-run output, taken as the headers a node
// would receive, must verify with the node's own verifyRequest against the client certificate, for
// each key type, with and without a body. (The end-to-end run against a node is in the server's
// tests.)
#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <string>
#include <vector>

#include "auth/signatures/exchange_signatures.h"
#include "tests/support/node_process.h"
#include "tests/support/signing_identity.h"
#include "tests/support/test_pki.h"

namespace hie {
namespace {

using testing::SignerKey;
using testing::SigningIdentity;

const std::string kScript = std::string(HIE_SOURCE_DIR) + "/scripts/signed-curl";

struct DryRun {
  int exitCode = -1;
  std::string output;
  std::string base;
  auth::FieldList fields;
  std::string host;
};

DryRun dryRun(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {kScript};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--dry-run");
  const testing::CommandResult r = testing::runProgram(argv);
  DryRun out;
  out.exitCode = r.exitCode;
  out.output = r.output;
  const std::string baseMark = "signature base:\n";
  const std::string fieldsMark = "\nheader fields:\n";
  const std::size_t b = r.output.find(baseMark);
  const std::size_t f = r.output.find(fieldsMark);
  if (b != 0 || f == std::string::npos) return out;
  out.base = r.output.substr(baseMark.size(), f - baseMark.size());
  std::size_t pos = f + fieldsMark.size();
  while (pos < r.output.size()) {
    std::size_t end = r.output.find('\n', pos);
    if (end == std::string::npos) end = r.output.size();
    const std::string line = r.output.substr(pos, end - pos);
    pos = end + 1;
    const std::size_t colon = line.find(": ");
    if (colon == std::string::npos) continue;
    out.fields.emplace_back(line.substr(0, colon), line.substr(colon + 2));
    if (line.substr(0, colon) == "Host") out.host = line.substr(colon + 2);
  }
  return out;
}

class SignedCurl : public ::testing::Test {
 protected:
  testing::TestPki pki = testing::TestPki::create();
  testing::TempDir dir;

  // Writes the identity's files; returns the --cert, --key and --cacert options.
  std::vector<std::string> files(const SigningIdentity& id, const std::string& name) {
    return {"--cert", testing::writeFile(dir.path(), name + ".crt", id.certPem + pki.intermediate.certPem()),
            "--key", testing::writeFile(dir.path(), name + ".key", id.keyPem),
            "--cacert", testing::writeFile(dir.path(), "root.pem", pki.root.certPem())};
  }

  // What the node would see: the request line's target and the fields the script printed.
  static auth::HttpMessage received(const std::string& method, const DryRun& run, const std::string& target) {
    auth::HttpMessage m;
    m.method = method;
    m.targetUri = "https://" + run.host + target;
    m.fields = run.fields;
    return m;
  }

  static auth::SignatureWindow now() {
    auth::SignatureWindow w;
    w.now = static_cast<std::int64_t>(std::time(nullptr));
    return w;
  }
};

TEST_F(SignedCurl, GetRequestsVerifyForEveryKeyType) {
  const std::string target = "/fhir/Patient?identifier=urn:oid:2.16.840.1.113883.3.7000.1%7CNET-1001&_count=5";
  for (SignerKey type : {SignerKey::kEcP256, SignerKey::kRsa2048, SignerKey::kEd25519, SignerKey::kEcP384}) {
    const SigningIdentity id = SigningIdentity::issue(pki, type, "River Hospital");
    std::vector<std::string> args = files(id, "client");
    args.insert(args.end(), {"--purpose", "TREAT", "--request-id", "signed-curl-1", "https://127.0.0.1:8443" + target});
    const DryRun run = dryRun(args);
    ASSERT_EQ(run.exitCode, 0) << run.output;
    EXPECT_EQ(run.host, "127.0.0.1:8443");
    auto verified = auth::verifyRequest(received("GET", run, target), "", id.spkiDer, id.keyId, now());
    ASSERT_TRUE(verified) << verified.error().reason << ": " << verified.error().detail << "\n" << run.output;
    ASSERT_TRUE(*verified) << run.output;
    EXPECT_EQ((*verified)->evidence.base, run.base);
    EXPECT_EQ((*verified)->evidence.keyId, id.keyId);
    EXPECT_TRUE(testing::contains(run.base, "\"x-purpose-of-use\": TREAT\n\"x-request-id\": signed-curl-1\n"))
        << run.base;
    // The same headers on another target, or from another certificate, are refused.
    EXPECT_EQ(auth::verifyRequest(received("GET", run, "/fhir/Patient/p-ava"), "", id.spkiDer, id.keyId, now())
                  .error()
                  .reason,
              "signature_invalid");
    const SigningIdentity other = SigningIdentity::issue(pki, type, "Lakeside Clinic");
    EXPECT_EQ(auth::verifyRequest(received("GET", run, target), "", other.spkiDer, other.keyId, now()).error().reason,
              "signature_key_mismatch");
  }
}

TEST_F(SignedCurl, PostBodiesAreCoveredByContentDigest) {
  const SigningIdentity id = SigningIdentity::issue(pki, SignerKey::kEcP256);
  const std::string body = "{\"resourceType\":\"Bundle\",\"type\":\"batch\"}\n";
  const std::string bodyFile = testing::writeFile(dir.path(), "body.json", body);
  std::vector<std::string> args = files(id, "client");
  args.insert(args.end(), {"--data", bodyFile, "https://node-b.example/fhir"});
  const DryRun run = dryRun(args);
  ASSERT_EQ(run.exitCode, 0) << run.output;
  EXPECT_EQ(run.host, "node-b.example");
  const auth::HttpMessage m = received("POST", run, "/fhir");
  auto verified = auth::verifyRequest(m, body, id.spkiDer, id.keyId, now());
  ASSERT_TRUE(verified) << verified.error().reason << ": " << verified.error().detail << "\n" << run.output;
  ASSERT_TRUE(*verified);
  EXPECT_TRUE(testing::contains(run.base, "\"content-digest\": " + auth::contentDigestField(body) + "\n")) << run.base;
  EXPECT_FALSE(testing::contains(run.base, "x-purpose-of-use"));
  EXPECT_EQ(auth::verifyRequest(m, body + " ", id.spkiDer, id.keyId, now()).error().reason, "content_digest_mismatch");
  // A random request id when none is given.
  auto requestId = std::find_if(run.fields.begin(), run.fields.end(), [](const auto& f) { return f.first == "X-Request-Id"; });
  ASSERT_NE(requestId, run.fields.end());
  EXPECT_EQ(requestId->second.size(), 32u);
}

TEST_F(SignedCurl, RefusesWhatItCannotSign) {
  const SigningIdentity id = SigningIdentity::issue(pki, SignerKey::kEcP256);
  const SigningIdentity other = SigningIdentity::issue(pki, SignerKey::kEcP256);
  std::vector<std::string> mismatched = files(id, "client");
  mismatched[3] = testing::writeFile(dir.path(), "other.key", other.keyPem);
  mismatched.push_back("https://node-b.example/fhir/metadata");
  DryRun run = dryRun(mismatched);
  EXPECT_EQ(run.exitCode, 1) << run.output;
  EXPECT_TRUE(testing::contains(run.output, "not the key of the (first) certificate")) << run.output;

  std::vector<std::string> plainHttp = files(id, "client");
  plainHttp.push_back("http://node-b.example/fhir/metadata");
  EXPECT_EQ(dryRun(plainHttp).exitCode, 2);
  std::vector<std::string> badId = files(id, "client");
  badId.insert(badId.end(), {"--request-id", "has space", "https://node-b.example/fhir/metadata"});
  EXPECT_EQ(dryRun(badId).exitCode, 2);
  EXPECT_EQ(dryRun({"https://node-b.example/fhir/metadata"}).exitCode, 2);
}

}  // namespace
}  // namespace hie

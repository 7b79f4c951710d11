// The transparency log's jsonl export, `audit checkpoint` and `audit consistency`, checked
// by the independent verifier scripts/verify-audit: a log written to a real database
// (PgAuditLogStore, the writer's store), exported by the real hie-node binary. Clean exports,
// partial ones, kept checkpoints and consistency proofs verify; altered leaves, removed or
// swapped lines, foreign or missing signatures, rewritten histories fail. Also the worked
// example of docs/audit-format.md, which is the shipped script.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "audit/canonical_form.h"
#include "audit/pg_audit_log_store.h"
#include "audit/signed_note.h"
#include "audit/transparency_log.h"
#include "tests/support/node_fixture.h"

namespace hie::testing {
namespace {

using audit::merkle::Frontier;
using Lines = std::vector<std::string>;

const std::string kScript = std::string(HIE_SOURCE_DIR) + "/scripts/verify-audit";
const std::string kOrigin = "hie-node/node-a/audit";
const std::string kEmDash = "\xE2\x80\x94";

std::string joined(const Lines& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

Lines splitLines(const std::string& text) {
  Lines out;
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// A text as a string of the export escapes it: line feeds as \n, the em dash as \u2014.
std::string escaped(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') {
      out += "\\n";
    } else if (text.compare(i, 3, kEmDash) == 0) {
      out += "\\u2014";
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// Replaces the first occurrence of from in text (which must hold it).
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "no '" << from << "' in " << text;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// The "time" of leaf i: one second apart, from 2026-11-26T10:00:00.000Z.
std::string timeOf(std::uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "2026-11-26T%02d:%02d:%02d.000Z", static_cast<int>(10 + i / 3600),
                static_cast<int>(i / 60 % 60), static_cast<int>(i % 60));
  return buf;
}

audit::AuditEvent eventFor(std::uint64_t i) {
  audit::AuditEvent e;
  e.time = timeOf(i);
  e.eventType = "rest";
  e.action = "read";
  e.outcome = "success";
  e.organization = "urn:oid:2.16.840.1.113883.3.7001";
  e.method = "GET";
  e.path = "/fhir/Patient/p-" + std::to_string(i % 3);
  e.resourceType = "Patient";
  e.resourceId = "p-" + std::to_string(i % 3);
  e.patient = "Patient/p-" + std::to_string(i % 3);
  e.entities = "Patient/p-" + std::to_string(i % 3);
  e.purpose = "TREAT";
  e.httpStatus = 200;
  e.requestId = "req-" + std::to_string(i);
  e.resultCount = 1;
  return e;
}

// One log being written as the audit writer writes it: leaves, their completed subtrees, a
// checkpoint signed with the node's audit key per batch.
struct TestLog {
  std::string origin;
  Frontier frontier;
};

class AuditLogExport : public ::testing::Test {
 protected:
  void SetUp() override {
    f.migrate();
    auto loaded = audit::SigningKey::fromPemFile(f.dir.path() + "/audit-ed25519.pem");
    ASSERT_TRUE(loaded);
    key = std::make_unique<audit::SigningKey>(*loaded);
    auto pub = audit::VerifyKey::fromRaw(key->rawPublicKey());
    ASSERT_TRUE(pub);
    logKey = audit::note::VerifierKey::of(kOrigin, audit::note::kEd25519, *pub).text();
    for (const char* name : {"witness.example/w1", "witness.example/w2"}) {
      auto w = audit::SigningKey::generate();
      ASSERT_TRUE(w);
      auto wpub = audit::VerifyKey::fromRaw(w->rawPublicKey());
      ASSERT_TRUE(wpub);
      witnesses.emplace_back(name, std::make_unique<audit::SigningKey>(*w));
      witnessKeys.push_back(audit::note::VerifierKey::of(name, audit::note::kCosignatureV1, *wpub).text());
    }
    store = std::make_unique<audit::PgAuditLogStore>(f.db.uri());
    log.origin = kOrigin;
    grow(log, 5);
    kept5 = keep("kept-5.note");
    grow(log, 8);
    cosign(13, {0});
    kept13 = keep("kept-13.note");
    grow(log, 10);
    cosign(23, {0, 1});
    kept23 = keep("kept-23.note");
    full = exportLines();
    ASSERT_EQ(full.size(), 24u) << joined(full);  // the statement, 23 leaves
  }

  // The shape of the leaves grow() writes: as this version writes them (34 keys), as the version
  // before signed requests wrote them (27 keys), as the version before UDAP wrote them (32 keys), or
  // with signed request and answer evidence, or with a UDAP client.
  enum class Shape { kCurrent, kBeforeSignatures, kBeforeUdap, kSigned, kUdap };

  // Appends n leaves and the checkpoint of the new size, as the writer does.
  void grow(TestLog& l, std::uint64_t n, const audit::SigningKey* signer = nullptr, Shape shape = Shape::kCurrent) {
    std::vector<audit::LogLeaf> batch;
    for (std::uint64_t k = 0; k < n; ++k) {
      const std::uint64_t index = l.frontier.size();
      audit::LogLeaf leaf;
      leaf.index = index;
      audit::AuditEvent event = eventFor(index);
      if (shape == Shape::kSigned) {
        event.requestSignatureBase = "\"@method\": GET\n\"@signature-params\": (\"@method\");created=1;keyid=\"ab\"";
        event.requestSignature = std::string("\x01\x02\xff", 3);
        event.signatureCheck = "verified";
      }
      if (shape == Shape::kUdap) {
        event.authentication = "mtls+udap";
        event.clientId = "Zm9vYmFyYmF6cXV4";
      }
      audit::CanonicalObject object = audit::leafObject(event, "node-a", index);
      if (shape == Shape::kBeforeSignatures) {
        for (const char* key : {"requestSignature", "requestSignatureBase", "responseSignature",
                                "responseSignatureBase", "signatureCheck"}) {
          object.erase(key);
        }
      }
      if (shape == Shape::kBeforeSignatures || shape == Shape::kBeforeUdap) {
        object.erase("authentication");
        object.erase("clientId");
      }
      leaf.leaf = audit::canonicalJson(object);
      leaf.hash = audit::merkle::leafHash(leaf.leaf);
      leaf.completed = l.frontier.append(leaf.hash);
      batch.push_back(std::move(leaf));
    }
    auto cp = audit::signTreeHead(audit::TreeHead{l.origin, l.frontier.size(), l.frontier.root()},
                                  signer != nullptr ? *signer : *key);
    ASSERT_TRUE(cp);
    auto stored = store->append(l.origin, batch, *cp);
    ASSERT_TRUE(stored) << stored.error().internal;
  }

  // The witnesses (by position) cosign the stored checkpoint of size, as the submitter stores them.
  void cosign(std::uint64_t size, const std::vector<int>& which) {
    auto note = store->checkpointAt(kOrigin, size);
    ASSERT_TRUE(note && *note);
    const std::string text = (*note)->substr(0, (*note)->find("\n\n") + 1);
    for (int w : which) {
      auto line = audit::note::cosign(text, 1790000000 + size, witnesses[w].first, *witnesses[w].second);
      ASSERT_TRUE(line);
      ASSERT_TRUE(store->addCosignatures(kOrigin, size, witnesses[w].first, {*line}));
    }
  }

  // hie-node ARGS --config ...: its standard output alone.
  CommandResult node(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>/dev/null", nodeBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--config", f.configPath});
    return runProgram(argv);
  }

  // `hie-node audit checkpoint`, kept in a file as an auditor would.
  std::string keep(const std::string& name, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"audit", "checkpoint"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = node(args);
    EXPECT_EQ(r.exitCode, 0) << r.output;
    return writeFile(f.dir.path(), name, r.output);
  }

  std::string consistency(std::uint64_t oldSize, std::uint64_t newSize) {
    auto r = node({"audit", "consistency", "--old", std::to_string(oldSize), "--new", std::to_string(newSize)});
    EXPECT_EQ(r.exitCode, 0) << r.output;
    return writeFile(f.dir.path(), "consistency-" + std::to_string(oldSize) + "-" + std::to_string(newSize), r.output);
  }

  Lines exportLines(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"audit", "export", "--format", "jsonl"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = node(args);
    EXPECT_EQ(r.exitCode, 0) << r.output;
    return splitLines(r.output);
  }

  std::string file(const Lines& lines) {
    return writeFile(f.dir.path(), "export-" + std::to_string(++files) + ".jsonl", joined(lines));
  }

  // scripts/verify-audit ARGS... (or another copy of it: python3 COMMAND ARGS...)
  CommandResult script(const std::vector<std::string>& args, const std::string& command = kScript) {
    std::vector<std::string> argv{command};
    if (command != kScript) argv = {"/usr/bin/env", "python3", command};
    argv.insert(argv.end(), args.begin(), args.end());
    return runProgram(argv);
  }
  CommandResult verify(const Lines& lines, const std::vector<std::string>& options = {"--log-key", ""}) {
    std::vector<std::string> args = options;
    for (auto& a : args) {
      if (a.empty()) a = logKey;
    }
    args.push_back(file(lines));
    return script(args);
  }

  void expectOk(const CommandResult& run, const std::string& says) {
    EXPECT_EQ(run.exitCode, 0) << run.output;
    EXPECT_TRUE(contains(run.output, says)) << "expected '" << says << "' in " << run.output;
  }
  void expectFails(const CommandResult& run, const std::string& says) {
    EXPECT_EQ(run.exitCode, 1) << run.output;
    EXPECT_TRUE(contains(run.output, "FAIL")) << run.output;
    EXPECT_TRUE(contains(run.output, says)) << "expected '" << says << "' in " << run.output;
  }

  NodeFixture f;
  std::unique_ptr<audit::SigningKey> key;
  std::string logKey;
  std::vector<std::pair<std::string, std::unique_ptr<audit::SigningKey>>> witnesses;
  std::vector<std::string> witnessKeys;
  std::unique_ptr<audit::PgAuditLogStore> store;
  TestLog log;
  std::string kept5, kept13, kept23;
  Lines full;
  int files = 0;
};

TEST_F(AuditLogExport, AFullExportVerifiesWithTheLogsKeyAndItsWitnesses) {
  const std::string& s = full[0];
  EXPECT_TRUE(contains(s, "{\"end\":23,\"export\":\"")) << s;
  EXPECT_TRUE(contains(s, "\"first\":0,\"from\":\"\",\"logs\":1,\"origin\":\"" + kOrigin + "\",\"root\":\"" +
                              audit::merkle::toBase64(log.frontier.root()) + "\",\"sig\":\"")) << s;
  EXPECT_TRUE(contains(s, "\"size\":23,\"time\":\"")) << s;
  EXPECT_TRUE(contains(s, "\"to\":\"\",\"type\":\"log-export\"}")) << s;
  // A line: the canonical leaf, its index, and its tlog-proof ending in the checkpoint with both cosignatures.
  const std::string& line = full[8];
  EXPECT_EQ(line.substr(0, 20), "{\"entry\":{\"action\":\"");
  EXPECT_TRUE(contains(line, "\"index\":7,\"issuerDn\":\"\",")) << line;
  EXPECT_TRUE(contains(line, "},\"index\":7,\"proof\":\"c2sp.org/tlog-proof@v1\\nindex 7\\n")) << line;
  EXPECT_TRUE(contains(line, "\\n\\n" + kOrigin + "\\n23\\n" + audit::merkle::toBase64(log.frontier.root()) +
                                 "\\n\\n\\u2014 " + kOrigin + " ")) << line;
  EXPECT_TRUE(contains(line, "\\n\\u2014 witness.example/w1 ")) << line;
  EXPECT_TRUE(contains(line, "\\n\\u2014 witness.example/w2 ")) << line;

  auto ok = verify(full);
  expectOk(ok, "OK: 23 leaves verified in 1 logs\n");
  EXPECT_TRUE(contains(ok.output, "  log " + kOrigin + ": leaves 0-22 of its checkpoint of size 23 (the whole log)"))
      << ok.output;
  EXPECT_FALSE(contains(ok.output, "PARTIAL")) << ok.output;
  // The node's PEM public key does as well as its vkey.
  expectOk(verify(full, {"--public-key", f.dir.path() + "/audit-ed25519.pub"}), "OK: 23 leaves verified in 1 logs");
  // Two known witnesses required, and given.
  expectOk(verify(full, {"--log-key", "", "--witness-key", witnessKeys[0], "--witness-key", witnessKeys[1],
                         "--witnesses", "2"}),
           "cosigned by 2 known witnesses (witness.example/w1, witness.example/w2)");
  // One line verifies alone, as an excerpt.
  expectOk(verify(Lines{full[8]}, {"--excerpt", "--log-key", "", "--witness-key", witnessKeys[1], "--witnesses", "1"}),
           "OK: 1 lines verified, each on its own");
  // Without the log's key nothing verifies; usage errors exit 2.
  expectFails(script({file(full)}), "no key for log " + kOrigin);
  EXPECT_EQ(script({"--witnesses", "1", file(full)}).exitCode, 2);
  EXPECT_EQ(script({"--log-key", "not-a-vkey", file(full)}).exitCode, 2);
  EXPECT_EQ(script({"--log-key", witnessKeys[0], file(full)}).exitCode, 2);  // a cosignature key as a log key
  EXPECT_EQ(script({}).exitCode, 2);
  // The command's own summary.
  auto summary = f.cli({"audit", "export", "--format", "jsonl"});
  EXPECT_TRUE(contains(summary.output, "exported 23 audit log leaves of 1 log: " + kOrigin +
                                           " leaves 0-22 of its checkpoint of size 23")) << summary.output;
}

TEST_F(AuditLogExport, AnAlteredLeafFails) {
  Lines forged = full;
  forged[5] = replaced(forged[5], "\"purpose\":\"TREAT\"", "\"purpose\":\"TREAX\"");
  expectFails(verify(forged), "leaf 4 of log " + kOrigin + ": the inclusion proof does not verify");
  // Its index changed, inside the entry only or everywhere.
  forged = full;
  forged[5] = replaced(forged[5], "\"index\":4,\"issuerDn\"", "\"index\":5,\"issuerDn\"");
  expectFails(verify(forged), "line 6: the entry's own index is not the line's index 4");
  // A key added to the entry, or one taken away: no leaf has 35 or 33 keys.
  forged = full;
  forged[5] = replaced(forged[5], "{\"entry\":{\"action\"", "{\"entry\":{\"aaa\":\"x\",\"action\"");
  expectFails(verify(forged), "line 6: the entry is not a leaf: its keys must be exactly the 27 of a leaf, or those "
                              "and the 5 of signed requests, or those and the 2 of UDAP (35 keys)");
  forged = full;
  forged[5] = replaced(forged[5], ",\"signatureCheck\":\"\"", "");
  expectFails(verify(forged), "line 6: the entry is not a leaf");
  // Not canonical: a space, or keys out of order.
  forged = full;
  forged[5] = replaced(forged[5], "\"index\":4,\"proof\"", "\"index\": 4,\"proof\"");
  expectFails(verify(forged), "line 6: not in canonical form");
  forged = full;
  forged[5] = replaced(forged[5], "\\u2014", "\xE2\x80\x94");
  expectFails(verify(forged), "line 6: a byte outside ASCII");
}

TEST_F(AuditLogExport, LeavesOfAllThreeShapesVerifyTogether) {
  // A log begun two versions ago: 27-key leaves, then 32-key ones, then 34-key ones (UDAP).
  grow(log, 2, nullptr, Shape::kBeforeSignatures);
  grow(log, 2, nullptr, Shape::kBeforeUdap);
  grow(log, 2, nullptr, Shape::kUdap);
  const Lines lines = exportLines();
  ASSERT_EQ(lines.size(), 30u) << joined(lines);
  EXPECT_FALSE(contains(lines[24], "signatureCheck")) << lines[24];
  EXPECT_TRUE(contains(lines[26], "signatureCheck")) << lines[26];
  EXPECT_FALSE(contains(lines[26], "clientId")) << lines[26];
  EXPECT_TRUE(contains(lines[28], "\"authentication\":\"mtls+udap\",")) << lines[28];
  EXPECT_TRUE(contains(lines[28], "\"clientId\":\"Zm9vYmFyYmF6cXV4\",")) << lines[28];
  expectOk(verify(lines), "OK: 29 leaves verified in 1 logs");
  expectOk(verify(Lines{lines[24], lines[26], lines[28]}, {"--excerpt", "--log-key", ""}), "OK: 3 lines verified");
  // A 34-key leaf without one of the UDAP keys (33 keys) is no shape.
  Lines forged = lines;
  forged[28] = replaced(forged[28], "\"clientId\":\"Zm9vYmFyYmF6cXV4\",", "");
  expectFails(verify(forged), "line 29: the entry is not a leaf");
  auto own = f.cli({"audit", "verify"});
  EXPECT_EQ(own.exitCode, 0) << own.output;
  EXPECT_TRUE(contains(own.output, "checked 29 leaves in 1 log")) << own.output;
}

TEST_F(AuditLogExport, LeavesWrittenBeforeSignedRequestsVerifyNextToSignedOnes) {
  // A log begun by an older version: 27-key leaves, then (after the upgrade) 34-key ones.
  grow(log, 2, nullptr, Shape::kBeforeSignatures);
  grow(log, 2, nullptr, Shape::kSigned);
  const Lines lines = exportLines();
  ASSERT_EQ(lines.size(), 28u) << joined(lines);
  EXPECT_FALSE(contains(lines[24], "signatureCheck")) << lines[24];
  EXPECT_TRUE(contains(lines[26], "\"requestSignature\":\"AQL/\",\"requestSignatureBase\":\"\\\"@method\\\": "
                                  "GET%0A\\\"@signature-params\\\": (")) << lines[26];
  EXPECT_TRUE(contains(lines[26], "\"signatureCheck\":\"verified\"")) << lines[26];
  expectOk(verify(lines), "OK: 27 leaves verified in 1 logs");
  expectOk(verify(Lines{lines[24], lines[26]}, {"--excerpt", "--log-key", ""}), "OK: 2 lines verified");
  // An old leaf with one signature key added is neither shape (and no longer hashes to its proof).
  Lines forged = lines;
  forged[24] = replaced(forged[24], ",\"resultCount\"", ",\"responseSignature\":\"\",\"resultCount\"");
  expectFails(verify(forged), "line 25: the entry is not a leaf");
  // hie-node's own verifier reads both shapes.
  auto own = f.cli({"audit", "verify"});
  EXPECT_EQ(own.exitCode, 0) << own.output;
  EXPECT_TRUE(contains(own.output, "checked 27 leaves in 1 log")) << own.output;
}

TEST_F(AuditLogExport, ARemovedLineFails) {
  Lines cut = full;
  cut.erase(cut.begin() + 8);  // leaf 7
  expectFails(verify(cut), "leaf 8 of log " + kOrigin + ": the export holds leaves 0-22 of log " + kOrigin +
                               ", in order; leaf 7 is missing");
  cut = full;
  cut.pop_back();  // the newest leaf
  expectFails(verify(cut), "log " + kOrigin + ": the export states leaves 0-22 but leaf 22 is missing");
  cut = full;
  cut.erase(cut.begin() + 1, cut.begin() + 3);  // the first two
  expectFails(verify(cut), "leaves 0-1 are missing");
  // Without its statement the file is no export (an excerpt is verified as one, and says so).
  expectFails(verify(Lines(full.begin() + 1, full.end())), "the export does not begin with its signed statements");
  expectOk(verify(Lines(full.begin() + 1, full.end()), {"--excerpt", "--log-key", ""}),
           "OK: 23 lines verified, each on its own (an excerpt: it says nothing about the leaves it does not hold)");
  // A statement claiming fewer leaves: a full export ends at the checkpoint's last leaf, and as a
  // partial one its signature does not verify.
  Lines restated = full;
  restated[0] = replaced(restated[0], "\"end\":23", "\"end\":22");
  restated.pop_back();
  expectFails(verify(restated), "line 1: an export without --to ends at the checkpoint's last leaf");
  restated[0] = replaced(restated[0], "\"to\":\"\"", "\"to\":\"" + timeOf(21) + "\"");
  expectFails(verify(restated), "line 1: the export statement's signature does not verify");
  expectFails(verify(Lines{}), "the export is empty");
}

TEST_F(AuditLogExport, ASwappedProofFails) {
  auto proofOf = [](const std::string& line) { return line.substr(line.find(",\"proof\":")); };
  auto withProof = [](const std::string& line, const std::string& proof) {
    return line.substr(0, line.find(",\"proof\":")) + proof;
  };
  // The proofs of leaves 3 and 4 exchanged: each names the other index.
  Lines swapped = full;
  swapped[4] = withProof(full[4], proofOf(full[5]));
  swapped[5] = withProof(full[5], proofOf(full[4]));
  expectFails(verify(swapped), "line 5: the proof is of index 4, not of the line's index 3");
  // Leaf 4's proof hashes under leaf 3's index line: the path leads elsewhere.
  swapped = full;
  swapped[4] = withProof(full[4], replaced(proofOf(full[5]), "\\nindex 4\\n", "\\nindex 3\\n"));
  expectFails(verify(swapped), "leaf 3 of log " + kOrigin + ": the inclusion proof does not verify");
  // Two whole lines in the wrong order.
  swapped = full;
  std::swap(swapped[4], swapped[5]);
  expectFails(verify(swapped), "leaf 4 of log " + kOrigin + ": the export holds leaves 0-22 of log " + kOrigin +
                                   ", in order; leaf 3 is missing");
}

TEST_F(AuditLogExport, ACheckpointSignedByAnotherKeyFails) {
  // The same tree head signed by another key under the log's name: that signature line is unknown
  // to the log's key, and no signature of the log's key remains.
  auto other = audit::SigningKey::generate();
  ASSERT_TRUE(other);
  auto foreign = audit::signTreeHead(audit::TreeHead{kOrigin, 23, log.frontier.root()}, *other);
  ASSERT_TRUE(foreign);
  const std::string& line = full[3];
  const auto noteAt = line.find("\\n\\n" + kOrigin + "\\n23\\n") + 4;
  Lines forged = full;
  forged[3] = line.substr(0, noteAt) + escaped(foreign->note) + "\"}";
  expectFails(verify(forged), "line 4: the checkpoint: no signature of the key of log " + kOrigin);
  // The statement re-signed by that key does not verify with the log's key.
  Lines restated = full;
  const auto sigAt = full[0].find(",\"sig\":\""), sigEnd = full[0].find('"', sigAt + 8);
  const std::string unsignedStatement = full[0].substr(0, sigAt) + full[0].substr(sigEnd + 1);
  auto resigned = other->sign("hie-audit-export-v2\n" + unsignedStatement);
  ASSERT_TRUE(resigned);
  restated[0] = full[0].substr(0, sigAt + 8) + *resigned + full[0].substr(sigEnd);
  ASSERT_NE(restated[0], full[0]);
  expectFails(verify(restated), "line 1: the export statement's signature does not verify");
  expectOk(verify(full), "OK: 23 leaves verified");
  // A database whose checkpoint another key signed: the node will not sign an export of it.
  grow(log, 1, &*other);
  auto refused = f.cli({"audit", "export", "--format", "jsonl"});
  EXPECT_EQ(refused.exitCode, 1) << refused.output;
  EXPECT_TRUE(contains(refused.output, "the checkpoint of size 24 of log " + kOrigin +
                                           " does not verify with audit.signingKey")) << refused.output;
}

TEST_F(AuditLogExport, AMissingCosignatureFailsWhenWitnessesAreRequired) {
  const std::vector<std::string> oneWitness{"--log-key", "", "--witness-key", witnessKeys[1], "--witnesses", "1"};
  expectOk(verify(full, oneWitness), "cosigned by 1 known witnesses (witness.example/w2)");
  // w2's cosignature cut from every line.
  Lines stripped = full;
  for (std::size_t i = 1; i < stripped.size(); ++i) {
    const auto at = stripped[i].find("\\u2014 witness.example/w2 ");
    ASSERT_NE(at, std::string::npos);
    stripped[i] = stripped[i].substr(0, at) + "\"}";
  }
  expectFails(verify(stripped, oneWitness), "line 2: the checkpoint: cosigned by 0 known witnesses (none), 1 required");
  expectOk(verify(stripped), "OK: 23 leaves verified");  // without a witness policy
  // A known witness's cosignature that does not verify spoils the checkpoint.
  Lines forged = full;
  const auto at = forged[2].find("\\u2014 witness.example/w2 ") + 26;
  forged[2][at + 20] = forged[2][at + 20] == 'A' ? 'B' : 'A';
  expectFails(verify(forged, oneWitness), "line 3: the checkpoint: the cosignature of witness witness.example/w2 "
                                          "does not verify");
  // A newer checkpoint nobody cosigned yet: the default export leads to it and fails the policy;
  // --cosigned 1 exports to the newest checkpoint one witness cosigned.
  grow(log, 2);
  const Lines newest = exportLines();
  ASSERT_EQ(newest.size(), 26u);
  expectFails(verify(newest, oneWitness), "cosigned by 0 known witnesses (none), 1 required");
  const Lines cosigned = exportLines({"--cosigned", "1"});
  ASSERT_EQ(cosigned.size(), 24u);
  expectOk(verify(cosigned, oneWitness), "leaves 0-22 of its checkpoint of size 23 (the whole log)");
  const Lines byOne = exportLines({"--cosigned", "2"});
  ASSERT_EQ(byOne.size(), 24u);
  auto none = f.cli({"audit", "export", "--format", "jsonl", "--cosigned", "3"});
  EXPECT_EQ(none.exitCode, 1);
  EXPECT_TRUE(contains(none.output, "log " + kOrigin + " has no stored checkpoint cosigned by 3 witnesses")) << none.output;
}

TEST_F(AuditLogExport, KeptCheckpointsMustBeConsistentWithTheExport) {
  // The checkpoint note as `audit checkpoint` prints it: the stored note and its cosignatures.
  std::ifstream in(kept23);
  std::stringstream text;
  text << in.rdbuf();
  auto note = store->checkpointAt(kOrigin, 23);
  ASSERT_TRUE(note && *note);
  EXPECT_EQ(text.str().substr(0, (*note)->size()), **note);
  EXPECT_EQ(splitLines(text.str()).size(), 7u) << text.str();  // 3 lines, an empty one, 3 signatures
  // A full export recomputes every kept root from its own leaves.
  auto ok = verify(full, {"--log-key", "", "--checkpoint", kept5, "--checkpoint", kept13, "--checkpoint", kept23});
  expectOk(ok, "kept checkpoint of log " + kOrigin + " at size 5: consistent (recomputed from the export's leaves)");
  EXPECT_TRUE(contains(ok.output, "at size 23: consistent (the export's checkpoint)")) << ok.output;
  // A history forked at leaf 9 and re-signed with the node's own key: consistent with itself, not with
  // what the auditor kept.
  TestLog fork{kOrigin, Frontier()};
  std::vector<audit::merkle::Hash> hashes;
  for (std::uint64_t i = 0; i < 13; ++i) {
    auto event = eventFor(i);
    if (i == 9) event.purpose = "HPAYMT";
    fork.frontier.append(audit::merkle::leafHash(audit::canonicalJson(audit::leafObject(event, "node-a", i))));
  }
  auto forged = audit::signTreeHead(audit::TreeHead{kOrigin, 13, fork.frontier.root()}, *key);
  ASSERT_TRUE(forged);
  const std::string forgedFile = writeFile(f.dir.path(), "forked-13.note", forged->note);
  expectFails(verify(full, {"--log-key", "", "--checkpoint", forgedFile}),
              "log " + kOrigin + ": rewritten: the export's leaves 0-12 do not hash to the kept checkpoint of size 13");
  // A partial export needs a consistency proof to the kept checkpoint, from `audit consistency`.
  const Lines partial = exportLines({"--from", timeOf(10)});
  ASSERT_EQ(partial.size(), 14u);
  expectFails(verify(partial, {"--log-key", "", "--checkpoint", kept5}),
              "a consistency proof is needed: hie-node audit consistency --old 5 --new 23");
  const std::string proof5 = consistency(5, 23);
  expectOk(verify(partial, {"--log-key", "", "--checkpoint", kept5, "--consistency", proof5}),
           "kept checkpoint of log " + kOrigin + " at size 5: consistent (by consistency proof)");
  const std::string proof13 = consistency(13, 23);
  expectFails(verify(partial, {"--log-key", "", "--checkpoint", forgedFile, "--consistency", proof13}),
              "log " + kOrigin + ": the checkpoint of size 23 is not consistent with the one of size 13");
  // A kept checkpoint newer than the export's: leaves were removed, or the export is stale.
  grow(log, 2);
  const std::string kept25 = keep("kept-25.note");
  expectFails(verify(full, {"--log-key", "", "--checkpoint", kept25}),
              "log " + kOrigin + ": truncated: the kept checkpoint covers 25 leaves but the export's checkpoint only 23");
  // Unless a consistency proof shows the export is merely older than the kept checkpoint.
  expectOk(verify(full, {"--log-key", "", "--checkpoint", kept25, "--consistency", consistency(23, 25)}),
           "at size 25: consistent (by consistency proof; the export's checkpoint is the older one, it shows no leaf "
           "from 23 on)");
}

TEST_F(AuditLogExport, AConsistencyProofVerifiesOnItsOwn) {
  const std::string proof = consistency(5, 23);
  std::ifstream in(proof);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str().substr(0, 6), "old 5\n") << text.str();
  EXPECT_TRUE(contains(text.str(), "\n\n" + kOrigin + "\n23\n")) << text.str();
  auto ok = script({"--log-key", logKey, "--witness-key", witnessKeys[0], "--witnesses", "1", "--checkpoint", kept5,
                    "--consistency", proof});
  expectOk(ok, "OK: 1 consistency proofs verified\n  consistency proof " + proof + ": log " + kOrigin +
                   " size 5 -> 23: consistent, cosigned by 1 known witnesses (witness.example/w1)");
  // The latest checkpoint by default; from the empty tree; equal sizes.
  auto latest = node({"audit", "consistency", "--old", "13"});
  EXPECT_EQ(latest.exitCode, 0);
  EXPECT_TRUE(contains(latest.output, "\n\n" + kOrigin + "\n23\n")) << latest.output;
  auto empty = node({"audit", "consistency", "--old", "0", "--new", "13"});
  EXPECT_EQ(empty.output.substr(0, 7), "old 0\n\n") << empty.output;
  expectOk(script({"--log-key", logKey, "--checkpoint", kept13, "--consistency", consistency(13, 13)}),
           "size 13 -> 13: consistent");
  // A proof without the checkpoint it starts from, or an altered one, proves nothing.
  expectFails(script({"--log-key", logKey, "--consistency", proof}),
              "no checkpoint of log " + kOrigin + " at size 5 to check it against");
  std::string alteredText = text.str();
  alteredText[10] = alteredText[10] == 'A' ? 'B' : 'A';
  const std::string altered = writeFile(f.dir.path(), "altered-proof", alteredText);
  expectFails(script({"--log-key", logKey, "--checkpoint", kept5, "--consistency", altered}),
              "the checkpoint of size 23 is not consistent with the one of size 5");
  expectFails(script({"--log-key", logKey, "--checkpoint", kept5, "--checkpoint", kept13, "--consistency", proof}),
              "no consistency proof from it given");
  // Refusals of the command.
  EXPECT_EQ(node({"audit", "consistency", "--old", "24", "--new", "23"}).exitCode, 2);
  EXPECT_EQ(node({"audit", "consistency", "--old", "05"}).exitCode, 2);
  EXPECT_EQ(node({"audit", "consistency"}).exitCode, 2);
  auto noSuch = f.cli({"audit", "consistency", "--old", "5", "--new", "22"});
  EXPECT_EQ(noSuch.exitCode, 1);
  EXPECT_TRUE(contains(noSuch.output, "log " + kOrigin + " has no stored checkpoint of size 22")) << noSuch.output;
}

TEST_F(AuditLogExport, APartialExportVerifiesAsPartialAndSaysWhatItHolds) {
  const Lines partial = exportLines({"--from", timeOf(10), "--to", "2026-11-26T10:00:15.0005+00:00"});
  ASSERT_EQ(partial.size(), 7u) << joined(partial);  // leaves 10-15
  EXPECT_TRUE(contains(partial[0], "{\"end\":16,\"export\":\"")) << partial[0];
  EXPECT_TRUE(contains(partial[0], "\"first\":10,\"from\":\"" + timeOf(10) + "\",")) << partial[0];
  EXPECT_TRUE(contains(partial[0], "\"to\":\"2026-11-26T10:00:15.000Z\"")) << partial[0];
  auto ok = verify(partial);
  expectOk(ok, "OK: 6 leaves verified in 1 logs; a PARTIAL export (--from " + timeOf(10) +
                   " --to 2026-11-26T10:00:15.000Z): it shows nothing outside the runs below");
  EXPECT_TRUE(contains(ok.output, "log " + kOrigin + ": leaves 10-15 of its checkpoint of size 23, root")) << ok.output;
  Lines cut = partial;
  cut.erase(cut.begin() + 1);
  expectFails(verify(cut), "leaf 11 of log " + kOrigin + ": the export holds leaves 10-15 of log " + kOrigin +
                               ", in order; leaf 10 is missing");
  cut = partial;
  cut.pop_back();
  expectFails(verify(cut), "the export states leaves 10-15 but leaf 15 is missing");
  // Passed off as a full export, or as one from an earlier time: refused.
  Lines restated = partial;
  restated[0] = replaced(restated[0], "\"from\":\"" + timeOf(10) + "\"", "\"from\":\"\"");
  expectFails(verify(restated), "line 1: an export without --from starts at leaf 0, this one at 10");
  restated[0] = replaced(restated[0], "\"from\":\"\"", "\"from\":\"" + timeOf(3) + "\"");
  expectFails(verify(restated), "line 1: the export statement's signature does not verify");
  // A date-only --to covers its whole day; nothing in the window: a statement with no leaf.
  EXPECT_EQ(exportLines({"--to", "2026-11-26"}).size(), 24u);
  const Lines none = exportLines({"--from", "2026-11-27"});
  ASSERT_EQ(none.size(), 1u) << joined(none);
  EXPECT_TRUE(contains(none[0], "{\"end\":0,\"export\":\"")) << none[0];
  expectOk(verify(none), "OK: 0 leaves verified in 1 logs; a PARTIAL export (--from 2026-11-27T00:00:00.000Z --to -)");
  // Bad bounds are usage errors.
  EXPECT_EQ(f.cli({"audit", "export", "--format", "jsonl", "--from", "2026-02-30"}).exitCode, 2);
  EXPECT_EQ(f.cli({"audit", "export", "--format", "jsonl", "--to", "yesterday"}).exitCode, 2);
  EXPECT_EQ(f.cli({"audit", "export", "--format", "jsonl", "--cosigned", "x"}).exitCode, 2);
  EXPECT_EQ(f.cli({"audit", "export", "--format", "xml"}).exitCode, 2);
}

TEST_F(AuditLogExport, EveryLogOfTheDatabaseIsStatedAndExported) {
  TestLog other{"hie-node/node-0/audit", Frontier()};  // sorts before node-a
  grow(other, 3);
  const Lines both = exportLines();
  ASSERT_EQ(both.size(), 2u + 3u + 23u) << joined(both);
  EXPECT_TRUE(contains(both[0], "\"logs\":2,\"origin\":\"hie-node/node-0/audit\"")) << both[0];
  EXPECT_TRUE(contains(both[1], "\"logs\":2,\"origin\":\"" + kOrigin + "\"")) << both[1];
  auto pem = std::vector<std::string>{"--public-key", f.dir.path() + "/audit-ed25519.pub"};
  expectOk(verify(both, pem), "OK: 26 leaves verified in 2 logs");
  // A whole log removed: its statement and its lines.
  Lines without{both[1]};
  without.insert(without.end(), both.begin() + 5, both.end());
  expectFails(verify(without, pem), "the export says it holds 2 logs but has statements for 1");
  // Only its lines removed.
  Lines statementsOnly{both[0], both[1]};
  statementsOnly.insert(statementsOnly.end(), both.begin() + 5, both.end());
  expectFails(verify(statementsOnly, pem), "leaf 0 of log " + kOrigin + " comes where the statement announces leaf 0 "
                                           "of log hie-node/node-0/audit; leaves 0-2 are missing of that log");
  // A kept checkpoint of a log the export does not hold.
  const std::string keptOther = keep("kept-other.note", {"--origin", "hie-node/node-0/audit"});
  // `audit checkpoint` prints both notes, an empty line apart; consistency needs --origin.
  auto cps = node({"audit", "checkpoint"});
  EXPECT_TRUE(contains(cps.output, "hie-node/node-0/audit\n3\n")) << cps.output;
  EXPECT_TRUE(contains(cps.output, "\n\n" + kOrigin + "\n23\n")) << cps.output;
  EXPECT_EQ(node({"audit", "consistency", "--old", "1"}).exitCode, 2);
  const std::string proof = writeFile(f.dir.path(), "other-proof",
                                      node({"audit", "consistency", "--old", "3", "--origin", "hie-node/node-0/audit"})
                                          .output);
  expectOk(script({"--public-key", f.dir.path() + "/audit-ed25519.pub", "--checkpoint", keptOther, "--consistency",
                   proof}),
           "log hie-node/node-0/audit size 3 -> 3: consistent");
}

TEST_F(AuditLogExport, ALeafMissingFromTheDatabaseStopsTheExport) {
  f.db.exec("ALTER TABLE audit_log_leaves DISABLE TRIGGER USER; DELETE FROM audit_log_leaves WHERE idx = 6; "
            "ALTER TABLE audit_log_leaves ENABLE TRIGGER USER");
  auto r = f.cli({"audit", "export", "--format", "jsonl"});
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "leaf 6 of log " + kOrigin + " is missing from the database (deleted?)")) << r.output;
}

TEST_F(AuditLogExport, ALogOfSeveralBlocksExportsWithBoundedWorkAndVerifies) {
  // 4096 leaves make one proof block: 4100 + 23 leaves span two, the second one ragged.
  for (int batch = 0; batch < 4; ++batch) grow(log, 1025);
  const Lines all = exportLines();
  ASSERT_EQ(all.size(), 1u + 4123u);
  expectOk(verify(all), "OK: 4123 leaves verified in 1 logs");
  // A run across the block boundary, starting and ending inside blocks.
  const Lines across = exportLines({"--from", timeOf(4000), "--to", timeOf(4110)});
  ASSERT_EQ(across.size(), 1u + 111u);
  expectOk(verify(across, {"--log-key", "", "--checkpoint", kept23, "--consistency", consistency(23, 4123)}),
           "leaves 4000-4110 of its checkpoint of size 4123");
}

TEST_F(AuditLogExport, CheckpointCommandOptions) {
  auto both = node({"audit", "checkpoint", "--cosigned", "2"});
  EXPECT_EQ(both.exitCode, 0);
  EXPECT_TRUE(contains(both.output, kOrigin + "\n23\n")) << both.output;
  auto one = node({"audit", "checkpoint", "--cosigned", "1", "--origin", kOrigin});
  EXPECT_TRUE(contains(one.output, kOrigin + "\n23\n")) << one.output;
  auto none = f.cli({"audit", "checkpoint", "--origin", "hie-node/nobody/audit"});
  EXPECT_EQ(none.exitCode, 1);
  EXPECT_TRUE(contains(none.output, "this database holds no log hie-node/nobody/audit")) << none.output;
  auto v1 = f.cli({"audit", "checkpoint", "--v1"});
  EXPECT_EQ(v1.exitCode, 1);
  EXPECT_TRUE(contains(v1.output, "no audit checkpoint has been written yet")) << v1.output;
  EXPECT_EQ(f.cli({"audit", "checkpoint", "--v1", "--cosigned", "1"}).exitCode, 2);
}

TEST_F(AuditLogExport, TheWorkedExampleInTheDocsIsTheShippedScript) {
  // The script in docs/audit-format.md is the one shipped, so the doc cannot drift from what works.
  std::ifstream doc(std::string(HIE_SOURCE_DIR) + "/docs/audit-format.md");
  std::stringstream text;
  text << doc.rdbuf();
  const std::string docText = text.str();
  const std::string begin = "<!-- worked-example:begin -->\n```python\n", end = "```\n<!-- worked-example:end -->";
  const auto from = docText.find(begin), to = docText.find(end);
  ASSERT_TRUE(from != std::string::npos && to != std::string::npos && to > from);
  const std::string documented = docText.substr(from + begin.size(), to - from - begin.size());
  std::ifstream shipped(kScript);
  std::stringstream shippedText;
  shippedText << shipped.rdbuf();
  EXPECT_EQ(shippedText.str(), documented);
  // And the documented text runs as printed.
  const std::string copy = writeFile(f.dir.path(), "verify.py", documented);
  expectOk(this->script({"--log-key", logKey, file(full)}, copy), "OK: 23 leaves verified in 1 logs");
}

}  // namespace
}  // namespace hie::testing

// The v1 jsonl export of the per-process chains (`audit export --format jsonl-v1`) and
// its independent verifier, scripts/verify-audit, on v1 chains as nodes wrote them
// before the upgrade to format v2: a clean export passes; removed entries (newest, first, a whole chain),
// duplicated keys, non-canonical lines and forged statements fail; a --from export
// verifies as partial and says where it starts. Old trails keep verifying.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <regex>
#include <sstream>

#include <pqxx/pqxx>

#include "audit/audit_chain.h"
#include "audit/audit_store.h"
#include "common/time.h"
#include "tests/support/node_fixture.h"

namespace hie::testing {
namespace {

const std::string kLakeside = "urn:oid:2.16.840.1.113883.3.7001";
const std::string kScript = std::string(HIE_SOURCE_DIR) + "/scripts/verify-audit";

using Lines = std::vector<std::string>;

std::string joined(const Lines& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// The statement lines of an export.
bool isStatement(const std::string& line) { return contains(line, "\"type\":\"export\""); }
Lines statementsOf(const Lines& lines) {
  Lines out;
  for (const auto& l : lines) {
    if (isStatement(l)) out.push_back(l);
  }
  return out;
}

// The value of "name":"…" in a line (first occurrence); "" when absent.
std::string field(const std::string& line, const std::string& name) {
  const std::string key = "\"" + name + "\":\"";
  const auto at = line.find(key);
  if (at == std::string::npos) return "";
  const auto begin = at + key.size();
  return line.substr(begin, line.find('"', begin) - begin);
}

class AuditExport : public ::testing::Test {
 protected:
  void SetUp() override {
    f.migrate();
    f.addOrg(kLakeside, "Lakeside Clinic");
    auto g = f.cli({"grant", "add", "--org", kLakeside, "--resource", "Patient", "--action", "read", "--purpose",
                    "TREAT"});
    ASSERT_EQ(g.exitCode, 0) << g.output;
    auto r = f.cli({"records", "import", std::string(HIE_SOURCE_DIR) + "/config/demo/bundle.json"});
    ASSERT_EQ(r.exitCode, 0) << r.output;
    lakeside = f.memberCert({kLakeside});
    serveRequests(6, "x-");
    auto cp = f.cli({"audit", "checkpoint", "--v1"});
    ASSERT_EQ(cp.exitCode, 0) << cp.output;
    checkpointFile = writeFile(f.dir.path(), "checkpoint.json", cp.output);
    full = exportLines();
    ASSERT_EQ(full.size(), 7u) << joined(full);  // one statement, six entries
    chain = field(full[1], "chain");
  }

  // A v1 chain of n reads, as a node process of before the upgrade wrote it (one chain per process
  // run, a signed checkpoint at its end): the node itself now writes format v2.
  void serveRequests(int n, const std::string& idPrefix) {
    auto key = audit::SigningKey::fromPemFile(f.dir.path() + "/" + f.config["audit.signingKey"]);
    ASSERT_TRUE(key) << key.error().internal;
    static int runs = 0;
    audit::ChainHead head;
    head.chain = "node-a/2026-11-0" + std::to_string(++runs) + "T00-00-00Z/0123456789ab";
    audit::AuditStore store(f.db.uri());
    ASSERT_TRUE(store.registerChain(head.chain, "node-a", key->publicPem()));
    std::vector<audit::AuditRecord> records;
    for (int i = 0; i < n; ++i) {
      audit::AuditEvent e;
      // One second apart, ending now: each entry's time is its own (a --from between two entries exists).
      const std::string t = utc::fromEpoch(std::time(nullptr) - (n - i));
      e.time = t.substr(0, t.size() - 1) + ".000Z";
      e.eventType = "rest";
      e.action = "read";
      e.outcome = "success";
      e.organization = kLakeside;
      e.certSha256 = lakeside.sha256Fingerprint();
      e.method = "GET";
      e.path = "/fhir/Patient/p-ava";
      e.resourceType = "Patient";
      e.resourceId = "p-ava";
      e.patient = "Patient/p-ava";
      e.purpose = "TREAT";
      e.httpStatus = 200;
      e.resultCount = 1;
      e.requestId = idPrefix + std::to_string(i);
      auto sealed = audit::seal(e, "node-a", head, *key);
      ASSERT_TRUE(sealed);
      records.push_back(audit::AuditRecord{*sealed, e});
    }
    ASSERT_TRUE(store.append(records));
    ASSERT_TRUE(store.appendCheckpoint(*audit::signCheckpoint(head, "node-a", utc::nowMillis(), *key)));
  }

  // `hie-node audit export --format jsonl-v1 EXTRA...`: its lines (stdout; the count goes to stderr).
  Lines exportLines(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"audit", "export", "--format", "jsonl-v1"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = f.cli(args);
    EXPECT_EQ(r.exitCode, 0) << r.output;
    Lines lines;
    std::stringstream in(r.output);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line[0] == '{') lines.push_back(line);
    }
    return lines;
  }

  // Runs the script on an export held in lines, with the node's public key.
  std::pair<int, std::string> verify(const Lines& lines, const std::vector<std::string>& options = {}) {
    return verifyFile(writeFile(f.dir.path(), "export-" + std::to_string(++files) + ".jsonl", joined(lines)), options);
  }
  std::pair<int, std::string> verifyFile(const std::string& exportFile, const std::vector<std::string>& options = {}) {
    const std::string out = f.dir.path() + "/verify.out";
    std::string cmd = kScript + " --public-key " + f.dir.path() + "/audit-ed25519.pub";
    for (const auto& o : options) cmd += " '" + o + "'";
    cmd += " " + exportFile + " >" + out + " 2>&1";
    const int rc = std::system(cmd.c_str());
    std::ifstream in(out);
    std::stringstream s;
    s << in.rdbuf();
    return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, s.str()};
  }

  void expectFails(const std::pair<int, std::string>& run, const std::string& says) {
    EXPECT_EQ(run.first, 1) << run.second;
    EXPECT_TRUE(contains(run.second, "FAIL")) << run.second;
    EXPECT_TRUE(contains(run.second, says)) << "expected '" << says << "' in " << run.second;
  }

  // As the schema owner with the append-only triggers off: what an attacker with DBA rights could do.
  void tamper(const std::string& sql) {
    f.db.exec("BEGIN; ALTER TABLE audit_entries DISABLE TRIGGER USER; ALTER TABLE audit_checkpoints DISABLE TRIGGER "
              "USER; " + sql + "; ALTER TABLE audit_entries ENABLE TRIGGER USER; ALTER TABLE audit_checkpoints ENABLE "
              "TRIGGER USER; COMMIT");
  }

  NodeFixture f;
  Credential lakeside;
  std::string checkpointFile, chain;
  Lines full;
  int files = 0;
};

TEST_F(AuditExport, ACleanFullExportVerifiesAndSaysItStartsAtGenesis) {
  // The statement: signed, names the chain's whole range and links entry 1 to the genesis hash.
  const std::string& s = full[0];
  EXPECT_TRUE(contains(s, "\"chain\":\"" + chain + "\",\"chains\":1,")) << s;
  EXPECT_TRUE(contains(s, "\"first\":1,\"from\":\"\",\"hash\":\"" + field(full[6], "hash") + "\",\"last\":6,\"prev\":\"" +
                              std::string(64, '0') + "\"")) << s;
  EXPECT_TRUE(contains(s, "\"to\":\"\",\"type\":\"export\"}")) << s;
  auto ok = verify(full);
  EXPECT_EQ(ok.first, 0) << ok.second;
  EXPECT_TRUE(contains(ok.second, "OK: 6 entries verified in 1 chains\n")) << ok.second;
  EXPECT_TRUE(contains(ok.second, "chain " + chain + ": entries 1-6, from its first entry (genesis)")) << ok.second;
  EXPECT_FALSE(contains(ok.second, "PARTIAL")) << ok.second;
  // With the kept checkpoint (both option spellings).
  for (const auto& option : std::vector<Lines>{{"--checkpoint", checkpointFile}, {"--checkpoint=" + checkpointFile}}) {
    auto withCheckpoint = verify(full, option);
    EXPECT_EQ(withCheckpoint.first, 0) << withCheckpoint.second;
    EXPECT_TRUE(contains(withCheckpoint.second, "checkpoint of chain " + chain + " at entry 6")) << withCheckpoint.second;
  }
  // Usage errors exit 2.
  EXPECT_EQ(verifyFile("", {"--no-such-option"}).first, 2);
}

TEST_F(AuditExport, AChangedCharacterFailsAndNamesTheEntry) {
  Lines forged = full;
  forged[3] = std::regex_replace(forged[3], std::regex("\"purpose\":\"TREAT\""), "\"purpose\":\"TREAX\"");
  expectFails(verify(forged), "FAIL chain " + chain + " entry 3: content does not match its hash");
}

TEST_F(AuditExport, NewestEntriesRemovedFromTheFileFailEvenWithoutACheckpoint) {
  const Lines cut(full.begin(), full.end() - 2);
  expectFails(verify(cut), "chain " + chain + ": the export states entries up to 6 but ends at entry 4; entries 5-6 "
                           "are missing");
}

TEST_F(AuditExport, NewestEntriesRemovedFromTheTrailFailWithTheKeptCheckpoint) {
  // Removed in the database, stored checkpoints too, before the export was made: the export's own
  // statement then honestly covers entries 1-4, and only a checkpoint kept elsewhere shows the loss.
  tamper("DELETE FROM audit_entries WHERE seq >= 5; DELETE FROM audit_checkpoints");
  const Lines shortened = exportLines();
  ASSERT_EQ(shortened.size(), 5u);
  auto plain = verify(shortened);
  EXPECT_EQ(plain.first, 0) << "without a checkpoint a shortened chain cannot be told apart: " << plain.second;
  expectFails(verify(shortened, {"--checkpoint", checkpointFile}),
              "chain " + chain + ": truncated: a checkpoint covers entry 6 but the chain ends at entry 4");
  // A checkpoint that does not verify is refused, not ignored.
  std::ifstream in(checkpointFile);
  std::string cp;
  std::getline(in, cp);
  const std::string forgedCp = writeFile(f.dir.path(), "forged-checkpoint.json",
                                         std::regex_replace(cp, std::regex("\"seq\":6"), "\"seq\":4") + "\n");
  expectFails(verify(shortened, {"--checkpoint", forgedCp}), "the checkpoint's signature does not verify");
}

TEST_F(AuditExport, ADuplicatedKeyWithTheForgedValueFirstFails) {
  // A JSON reader that keeps the last value (jq does) sees the genuine entry and its valid hash.
  Lines forged = full;
  forged[2] = std::regex_replace(forged[2], std::regex("\"purpose\":\"TREAT\""),
                                 "\"purpose\":\"PUBHLTH\",\"purpose\":\"TREAT\"");
  ASSERT_NE(forged[2], full[2]);
  expectFails(verify(forged), "line 3: key \"purpose\" appears twice");
  // Also in the outer object.
  forged = full;
  forged[2] = std::regex_replace(forged[2], std::regex("^\\{\"chain\":"), "{\"chain\":\"someone-else\",\"chain\":");
  expectFails(verify(forged), "line 3: key \"chain\" appears twice");
}

TEST_F(AuditExport, LinesNotInCanonicalFormFail) {
  const std::string line = full[2];
  const std::string action = "\"action\":\"read\",", glass = "\"breakGlass\":false,";
  ASSERT_TRUE(contains(line, action + glass)) << line;
  const std::vector<std::pair<std::string, std::string>> variants{
      {"a space after a colon", std::regex_replace(line, std::regex("\"seq\":2,"), "\"seq\": 2,")},
      {"a space inside the entry", std::regex_replace(line, std::regex("\"action\":\"read\""), "\"action\": \"read\"")},
      {"entry keys out of order", std::regex_replace(line, std::regex(action + glass), glass + action)},
      {"outer keys out of order",
       "{\"entry\":" + line.substr(line.find("{", 1), line.find(",\"hash\":") - line.find("{", 1)) + ",\"chain\":\"" +
           chain + "\"" + line.substr(line.find(",\"hash\":"))},
      {"a needless escape", std::regex_replace(line, std::regex("\"outcome\":\"success\""), "\"outcome\":\"succ\\u0065ss\"")},
      {"an escaped slash", std::regex_replace(line, std::regex("\"path\":\"/fhir"), "\"path\":\"\\/fhir")},
      {"a carriage return", line + "\r"},
      {"a trailing space", line + " "},
      {"a leading zero", std::regex_replace(line, std::regex("\"seq\":2,"), "\"seq\":02,")},
      {"a fraction", std::regex_replace(line, std::regex("\"httpStatus\":200"), "\"httpStatus\":200.0")},
  };
  for (const auto& [what, variant] : variants) {
    ASSERT_NE(variant, line) << what;
    Lines edited = full;
    edited[2] = variant;
    auto run = verify(edited);
    EXPECT_EQ(run.first, 1) << what << ": " << run.second;
    EXPECT_TRUE(contains(run.second, "FAIL line 3: not")) << what << ": " << run.second;
  }
  // A blank line is not an entry either.
  Lines blank = full;
  blank.insert(blank.begin() + 3, "");
  expectFails(verify(blank), "FAIL line 4: not JSON");
}

TEST_F(AuditExport, FirstEntriesRemovedFromAFullExportFail) {
  Lines cut = full;
  cut.erase(cut.begin() + 1, cut.begin() + 3);  // entries 1 and 2
  expectFails(verify(cut), "FAIL chain " + chain + " entry 3: the export says chain " + chain +
                               " starts at entry 1; entries 1-2 are missing");
  // Without the statement the export is not one.
  expectFails(verify(Lines(full.begin() + 3, full.end())), "does not begin with its signed statements");
  // A statement rewritten to say the export starts at entry 3 no longer verifies.
  Lines restated = cut;
  restated[0] = std::regex_replace(restated[0], std::regex("\"first\":1,"), "\"first\":3,");
  restated[0] = std::regex_replace(restated[0], std::regex("\"prev\":\"0+\""), "\"prev\":\"" + field(full[2], "hash") + "\"");
  expectFails(verify(restated), "line 1: the export statement's signature does not verify");
  // Removed in the database before a full export: the export says where the chain starts, and that is
  // not entry 1.
  tamper("DELETE FROM audit_entries WHERE seq <= 2");
  expectFails(verify(exportLines()), "chain " + chain + ": the export was made without --from, so it must start at "
                                     "entry 1, but it starts at entry 3");
}

TEST_F(AuditExport, AFromExportVerifiesAsPartialAndSaysWhereItStarts) {
  // --from the time of entry 4; entries sealed in the same millisecond are in too.
  const std::string from = field(full[4], "time");
  std::int64_t first = 0;
  for (int seq = 1; seq <= 6 && first == 0; ++seq) {
    if (field(full[seq], "time") >= from) first = seq;
  }
  ASSERT_GT(first, 1) << "entries 1-4 were sealed in one millisecond";
  const Lines partial = exportLines({"--from", from});
  ASSERT_EQ(partial.size(), static_cast<std::size_t>(1 + 7 - first)) << joined(partial);
  const std::string& s = partial[0];
  EXPECT_TRUE(contains(s, "\"first\":" + std::to_string(first) + ",\"from\":\"" + from + "\"")) << s;
  EXPECT_TRUE(contains(s, "\"prev\":\"" + field(full[first - 1], "hash") + "\"")) << s;
  auto ok = verify(partial, {"--checkpoint", checkpointFile});
  EXPECT_EQ(ok.first, 0) << ok.second;
  EXPECT_TRUE(contains(ok.second, "OK: " + std::to_string(7 - first) + " entries verified in 1 chains; a PARTIAL export "
                                  "(--from " + from + " --to -)")) << ok.second;
  EXPECT_TRUE(contains(ok.second, "chain " + chain + ": entries " + std::to_string(first) + "-6, starting after entry " +
                                      std::to_string(first - 1) + " (prev " + field(full[first - 1], "hash") +
                                      "), as asked by --from " + from)) << ok.second;
  // Its first entry removed: the statement says where it starts.
  Lines cut = partial;
  cut.erase(cut.begin() + 1);
  expectFails(verify(cut), "entry " + std::to_string(first + 1) + ": the export says chain " + chain +
                               " starts at entry " + std::to_string(first));
  // Passed off as a full export: the signature fails.
  Lines full2 = partial;
  full2[0] = std::regex_replace(full2[0], std::regex("\"from\":\"[^\"]*\""), "\"from\":\"\"");
  expectFails(verify(full2), "line 1: the export statement's signature does not verify");
  // A --to export ends by request; a checkpoint beyond its end cannot be checked, and says so.
  const std::string to = field(full[3], "time");
  const Lines early = exportLines({"--to", to});
  auto ended = verify(early);
  EXPECT_EQ(ended.first, 0) << ended.second;
  EXPECT_TRUE(contains(ended.second, "to the last entry at or before --to " + to)) << ended.second;
  expectFails(verify(early, {"--checkpoint", checkpointFile}), "beyond this export");
  // Nothing in the range: an export with no entries, still signed.
  const Lines none = exportLines({"--from", "2999-01-01"});
  ASSERT_EQ(none.size(), 1u) << joined(none);
  auto empty = verify(none);
  EXPECT_EQ(empty.first, 0) << empty.second;
  EXPECT_TRUE(contains(empty.second, "OK: 0 entries verified in 0 chains")) << empty.second;
  expectFails(verify(Lines{}), "the export is empty");
}

TEST_F(AuditExport, TheWindowIsTheEntriesSignedTimeNotTheRowsRecordedTime) {
  // recorded_at is unsigned: a superuser moves entry 1 into the --from window. Bounded by the rows'
  // recorded time the export would start at entry 1; bounded by the entries' signed time it starts
  // at entry 2, as without the edit.
  tamper("UPDATE audit_entries SET recorded_at = recorded_at + interval '1 day' WHERE seq = 1");
  const std::string from = field(full[2], "time");
  ASSERT_GT(from, field(full[1], "time")) << "entries 1 and 2 were sealed in one millisecond";
  const Lines partial = exportLines({"--from", from});
  ASSERT_EQ(partial.size(), 6u) << joined(partial);  // the statement, entries 2-6
  auto ok = verify(partial);
  EXPECT_EQ(ok.first, 0) << ok.second;
  EXPECT_TRUE(contains(ok.second, "chain " + chain + ": entries 2-6, starting after entry 1")) << ok.second;
  // An impossible date is refused, nothing written.
  auto bad = f.cli({"audit", "export", "--format", "jsonl-v1", "--from", "2026-02-30"});
  EXPECT_EQ(bad.exitCode, 2) << bad.output;
  EXPECT_FALSE(contains(bad.output, "\"type\":\"export\"")) << bad.output;
}

TEST_F(AuditExport, EveryChainOfAnExportIsStatedAndChecked) {
  serveRequests(3, "y-");  // a second process run: a second chain
  const Lines both = exportLines();
  ASSERT_EQ(both.size(), 11u) << joined(both);  // two statements, 6 + 3 entries
  const Lines statements = statementsOf(both);
  ASSERT_EQ(statements.size(), 2u);
  auto ok = verify(both);
  EXPECT_EQ(ok.first, 0) << ok.second;
  EXPECT_TRUE(contains(ok.second, "OK: 9 entries verified in 2 chains")) << ok.second;
  // A whole chain removed (its statement and its entries).
  const std::string other = field(statements[0], "chain") == chain ? field(statements[1], "chain")
                                                                   : field(statements[0], "chain");
  Lines without;
  for (const auto& l : both) {
    if (field(l, "chain") != other) without.push_back(l);
  }
  ASSERT_EQ(without.size(), 7u);
  expectFails(verify(without), "the export says it holds 2 chains but has statements for 1");
  // Only its entries removed.
  without.insert(without.begin() + 1, statements[field(statements[0], "chain") == other ? 0 : 1]);
  expectFails(verify(without), "chain " + other + ": the export states entries 1-3 but holds none of them");
  // A statement from another export of the same trail.
  Lines mixed = both;
  const Lines again = exportLines();
  mixed[1] = again[1];
  expectFails(verify(mixed), "line 2: a statement of another export");
}

}  // namespace
}  // namespace hie::testing

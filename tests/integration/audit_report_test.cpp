// `hie-node audit report --html` on a real node's trail, rendered by a real browser: Debian's
// headless Chromium dumps the DOM (the checks read the page's text as the browser parsed it)
// and takes a screenshot. Successful, denied, break-glass and hostile requests; the patient's
// accounting; a tampered trail reported loudly first; bad options write no file.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include <pqxx/pqxx>

#include "audit/signing_key.h"
#include "tests/support/node_fixture.h"

namespace hie::testing {
namespace {

const std::string kLakeside = "urn:oid:2.16.840.1.113883.3.7001";
const std::string kRiver = "urn:oid:2.16.840.1.113883.3.7002";
const std::string kChromium = "/usr/bin/chromium";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool exists(const std::string& path) { return std::ifstream(path).good(); }

// Chromium in a private profile, bounded: timeout(1) kills its whole process group when it hangs.
CommandResult chromium(const TempDir& dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/timeout", "-k", "5", "90", kChromium, "--headless", "--no-sandbox",
                                   "--disable-gpu", "--no-first-run", "--user-data-dir=" + dir.path() + "/chromium"};
  argv.insert(argv.end(), args.begin(), args.end());
  return runProgram(argv, {{"HOME", dir.path()}}, std::chrono::seconds(120));
}

class AuditReport : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(exists(kChromium)) << "Debian's chromium is needed (scripts/install-deps installs it)";
    f.migrate();
    f.addOrg(kLakeside, "Lakeside Clinic");
    f.addOrg(kRiver, "River Hospital");
    ok(f.cli({"grant", "add", "--org", kLakeside, "--resource", "Patient,Observation", "--action", "read,search",
              "--purpose", "TREAT", "--purpose", "ETREAT", "--purpose", "PUBHLTH"}));
    ok(f.cli({"records", "import", std::string(HIE_SOURCE_DIR) + "/config/demo/bundle.json"}));
    ok(f.cli({"consent", "set", "--patient", "p-cara", "--opt-out"}));
    std::string patients;
    for (int i = 0; i < 20; ++i) {
      patients += std::string(i == 0 ? "" : ",") + R"({"resource":{"resourceType":"Patient","id":"p-scan-)" +
                  std::to_string(i) + R"(","identifier":[{"system":"urn:oid:2.16.840.1.113883.3.7000.1","value":"SCAN-)" +
                  std::to_string(i) + R"("}]}})";
    }
    ok(f.cli({"records", "import", writeFile(out.path(), "scan.json",
                                             R"({"resourceType":"Bundle","type":"collection","entry":[)" + patients +
                                                 "]}")}));
    f.config["policy.breakGlass"] = "true";
    f.writeConfig();
    lakeside = f.memberCert({kLakeside});
    river = f.memberCert({kRiver});
    stranger = f.memberCert({"urn:oid:9.9.9"}, "<script>alert('dn')</script>");
    f.start();
    EXPECT_EQ(get(lakeside, "/fhir/Patient/p-ava").status, 200);
    EXPECT_EQ(get(lakeside, "/fhir/Observation?patient=p-ava").status, 200);
    EXPECT_EQ(get(lakeside, "/fhir/Patient/p-ben", "PUBHLTH").status, 200);  // not TPO: in HIPAA's accounting
    EXPECT_EQ(get(river, "/fhir/Patient/p-ava").status, 403);                  // no grant: denied
    EXPECT_EQ(get(lakeside, "/fhir/Patient/p-cara").status, 404);              // consent: denied
    EXPECT_EQ(get(lakeside, "/fhir/Patient/p-cara", "ETREAT").status, 200);    // break-glass
    EXPECT_NE(get(lakeside, "/fhir/Patient/p-ava", "<script>alert('purpose')</script>").status, 200);
    // No organization: refused before the purpose is looked at, which is recorded as sent.
    EXPECT_EQ(get(stranger, "/fhir/Patient/p-ava", "<script>alert('purpose')</script>").status, 403);
    // Many different patients in a short time.
    for (int i = 0; i < 20; ++i) EXPECT_EQ(get(lakeside, "/fhir/Patient/p-scan-" + std::to_string(i)).status, 200);
  }

  void ok(const CommandResult& r) { ASSERT_EQ(r.exitCode, 0) << r.output; }

  HttpResult get(const Credential& who, const std::string& path, const std::string& purpose = "TREAT") {
    return f.get(who, path, {"X-Purpose-Of-Use: " + purpose});
  }

  // The report written to dir/name, its DOM as Chromium parsed it.
  std::string reportDom(const std::vector<std::string>& extra, const std::string& name, int expectedExit = 0) {
    const std::string file = out.path() + "/" + name;
    std::vector<std::string> args = {"audit", "report", "--html", file};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = f.cli(args);
    EXPECT_EQ(r.exitCode, expectedExit) << r.output;
    html = slurp(file);
    EXPECT_FALSE(html.empty()) << r.output;
    selfContained(html);
    auto dom = chromium(out, {"--dump-dom", "file://" + file});
    EXPECT_EQ(dom.exitCode, 0) << dom.output;
    return dom.output;
  }

  // No script, no external reference of any kind: the page works offline and by e-mail.
  static void selfContained(const std::string& page) {
    EXPECT_FALSE(std::regex_search(page, std::regex(R"(<script)", std::regex::icase)));
    EXPECT_FALSE(std::regex_search(page, std::regex(R"(\b(src|href|xlink:href|action)\s*=)", std::regex::icase)));
    EXPECT_FALSE(std::regex_search(page, std::regex(R"(https?:|url\s*\(|@import)", std::regex::icase)));
    EXPECT_FALSE(std::regex_search(page, std::regex(R"(<(link|iframe|img|object|embed)\b)", std::regex::icase)));
  }

  NodeFixture f;
  TempDir out;
  std::string html;
  Credential lakeside, river, stranger;
};

TEST_F(AuditReport, BrowserShowsVerificationChartsEventsAndFindings) {
  const std::string dom = reportDom({}, "report.html");
  EXPECT_TRUE(contains(dom, "Audit trail verified")) << dom.substr(0, 4000);
  {
    // The node's log, with the leaves and the checkpoint that covers them, as stored.
    pqxx::connection c(f.db.uri());
    pqxx::read_transaction tx(c);
    const auto row = tx.exec1("SELECT origin, max(tree_size)::text FROM audit_log_checkpoints GROUP BY origin");
    const std::string origin = row[0].as<std::string>(), size = row[1].as<std::string>();
    EXPECT_TRUE(contains(dom, "log <code>" + origin + "</code>: " + size + " leaves; newest signed checkpoint covers " + size +
                                  " leaves"))
        << dom.substr(0, 4000);
  }
  EXPECT_LT(dom.find("Audit trail verified"), dom.find("Requests over time"));
  EXPECT_TRUE(contains(dom, "Lakeside Clinic (" + kLakeside + ")"));
  EXPECT_TRUE(contains(dom, "River Hospital (" + kRiver + ")"));
  EXPECT_TRUE(contains(dom, "<svg"));
  EXPECT_TRUE(contains(dom, "Requests by outcome: the numbers"));
  // Denied: no grant, consent, an unknown purpose, no organization; break-glass listed with its patient.
  // Denied: River (no grant), p-cara (consent), the stranger (no organization); the unknown purpose
  // is an error (400), not a denial.
  EXPECT_TRUE(contains(dom, "Denied requests (3)")) << dom;
  EXPECT_TRUE(contains(dom, "<td>patient_opted_out</td>")) << dom;
  EXPECT_TRUE(contains(dom, "<td>no_grant</td>")) << dom;
  EXPECT_TRUE(contains(dom, "<td>unknown_organization</td>")) << dom;
  EXPECT_TRUE(contains(dom, "Break-glass access (1)"));
  EXPECT_TRUE(contains(dom, "Patient/p-cara"));
  EXPECT_TRUE(contains(dom, "ETREAT (emergency treatment)"));
  // The finding, under its stated rule.
  EXPECT_TRUE(contains(dom, "many-patients</strong>: Lakeside Clinic (" + kLakeside + "): ")) << dom;
  EXPECT_TRUE(contains(dom, "at least 20 different patients within 10 minutes"));
  // Hostile text (a purpose header, a certificate's CN) is text in the DOM, never an element.
  EXPECT_FALSE(contains(dom, "<script")) << dom;
  EXPECT_TRUE(contains(dom, "&lt;script&gt;alert('purpose')&lt;/script&gt;")) << dom;
  EXPECT_TRUE(contains(dom, "alert('dn')")) << dom;  // RFC 2253 escapes the DN's < and > as \< \>

  // A screenshot of the rendered page.
  const std::string png = out.path() + "/report.png";
  auto shot = chromium(out, {"--screenshot=" + png, "--window-size=1280,2400", "file://" + out.path() + "/report.html"});
  ASSERT_EQ(shot.exitCode, 0) << shot.output;
  const std::string image = slurp(png);
  ASSERT_GT(image.size(), 20000u) << "a page with charts and tables is not a near-empty image";
  EXPECT_EQ(image.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

TEST_F(AuditReport, PatientAccountingInPlainLanguage) {
  const std::string dom = reportDom({"--patient", "p-ava"}, "p-ava.html");
  EXPECT_TRUE(contains(dom, "Accounting of disclosures for patient p-ava"));
  EXPECT_TRUE(std::regex_search(
      dom, std::regex("On \\d{1,2} [A-Z][a-z]{2} \\d{4} at \\d\\d:\\d\\d UTC, Lakeside Clinic \\(" + kLakeside +
                      "\\) read your patient record \\(your name, identifiers and contact details\\) for treatment\\.")))
      << dom;
  EXPECT_TRUE(contains(dom, "searched your Observation records and received 3 records for treatment."));
  EXPECT_TRUE(contains(dom, "2 disclosures."));
  // River Hospital was refused before the patient was looked up: nothing about it here.
  EXPECT_FALSE(contains(dom, "River Hospital (" + kRiver + ") read"));
  // Nothing about other patients.
  EXPECT_FALSE(contains(dom, "p-cara"));
  EXPECT_FALSE(contains(dom, "p-scan-"));

  // HIPAA's form leaves out treatment, payment and operations: both were for treatment.
  const std::string hipaa = reportDom({"--patient", "p-ava", "--hipaa"}, "p-ava-hipaa.html");
  EXPECT_TRUE(contains(hipaa, "HIPAA form (45 CFR §164.528)")) << hipaa;
  EXPECT_TRUE(contains(hipaa, "No disclosures of this patient's records are recorded in this period."));
  // ... and it keeps what is not TPO: p-ben's record read for public health, exactly that one.
  const std::string ben = reportDom({"--patient", "p-ben", "--hipaa"}, "p-ben-hipaa.html");
  EXPECT_TRUE(contains(ben, "1 disclosure.")) << ben;
  EXPECT_TRUE(contains(ben, "read your patient record (your name, identifiers and contact details) for public "
                            "health")) << ben;

  const std::string glass = reportDom({"--patient", "Patient/p-cara"}, "p-cara.html");
  EXPECT_TRUE(contains(glass, "This was emergency (break-glass) access")) << glass;
  EXPECT_TRUE(contains(glass, "for emergency treatment."));
}

// A search that found nothing disclosed nothing (docs/api.md): not in the patient's accounting.
TEST_F(AuditReport, ASearchThatFoundNothingIsNoDisclosure) {
  EXPECT_EQ(get(lakeside, "/fhir/Observation?patient=p-scan-3").status, 200);  // p-scan-3 has no Observations
  const std::string dom = reportDom({"--patient", "p-scan-3"}, "p-scan-3.html");
  EXPECT_TRUE(contains(dom, "1 disclosure.")) << dom;  // the read of the scan
  EXPECT_TRUE(contains(dom, "read your patient record")) << dom;
  EXPECT_FALSE(contains(dom, "received 0 records")) << dom;
  EXPECT_FALSE(contains(dom, "searched your Observation records")) << dom;
}

TEST_F(AuditReport, PeriodSelectsEntries) {
  const std::string dom = reportDom({"--from", "2001-01-01", "--to", "2001-12-31"}, "empty.html");
  EXPECT_TRUE(contains(dom, "Audit trail verified"));
  EXPECT_TRUE(contains(dom, "No requests in this period."));
  EXPECT_TRUE(contains(dom, "No unusual patterns found by these rules."));
  // The bounds are inclusive: --from and --to at the exact time of p-ava's read select it, and a
  // date alone as --to takes its whole day (the search came later the same day, in tests run at
  // 23:59 it may be the next: the read alone is then still in).
  std::string readTime;
  {
    pqxx::connection c(f.db.uri());
    pqxx::read_transaction tx(c);
    readTime = tx.exec1("SELECT audit_leaf_text(leaf, 'time') FROM audit_log_leaves WHERE audit_leaf_text(leaf, "
                        "'patient') = 'Patient/p-ava' AND audit_leaf_text(leaf, 'action') = 'read' AND "
                        "audit_leaf_text(leaf, 'outcome') = 'success' ORDER BY idx LIMIT 1")[0]
                   .as<std::string>();
  }
  const std::string exact = reportDom({"--patient", "p-ava", "--from", readTime, "--to", readTime}, "exact.html");
  EXPECT_TRUE(contains(exact, "1 disclosure.")) << readTime << "\n" << exact;
  const std::string day = reportDom({"--patient", "p-ava", "--from", readTime, "--to", readTime.substr(0, 10)}, "day.html");
  EXPECT_TRUE(contains(day, "disclosure")) << day;
  EXPECT_FALSE(contains(day, "No disclosures")) << day;
  // The page states the bounds as the instants they select.
  EXPECT_TRUE(contains(day, "to " + readTime.substr(0, 10) + "T23:59:59.999Z (given as " + readTime.substr(0, 10) + ")"))
      << day;
}

TEST_F(AuditReport, TamperedTrailIsReportedFirstAndLoudly) {
  f.node()->stop();
  f.db.exec("BEGIN; ALTER TABLE audit_log_leaves DISABLE TRIGGER USER; "
            "UPDATE audit_log_leaves SET leaf = replace(leaf, '\"purpose\":\"TREAT\"', '\"purpose\":\"HMARKT\"') "
            "WHERE idx = 0; ALTER TABLE audit_log_leaves ENABLE TRIGGER USER; COMMIT");
  const std::string dom = reportDom({}, "tampered.html", 1);
  const auto failed = dom.find("AUDIT TRAIL VERIFICATION FAILED");
  ASSERT_NE(failed, std::string::npos) << dom.substr(0, 4000);
  EXPECT_LT(failed, dom.find("Requests over time"));
  EXPECT_TRUE(contains(dom, "hash-mismatch"));
  EXPECT_FALSE(contains(dom, "Audit trail verified"));
}

// Rows the node's runtime role can insert but nobody signed: a leaf in a new origin with no checkpoint,
// a leaf under a name that is no origin, and a leaf past the node's newest checkpoint. Verification
// reports each, and the report neither counts nor lists them (review of the report, item 1).
TEST_F(AuditReport, UnsignedRowsFailVerificationAndAreNotReported) {
  f.node()->stop();
  // A copy of Lakeside's read of p-ava, made to look like a marketing read by another organization.
  const std::string forged =
      "regexp_replace(replace(replace(leaf, '" + kLakeside + "', 'urn:oid:6.6.6'), '\"purpose\":\"TREAT\"', "
      "'\"purpose\":\"HMARKT\"'), '\"index\":[0-9]+', '\"index\":IDX')";
  const std::string source =
      " FROM audit_log_leaves WHERE audit_leaf_text(leaf, 'patient') = 'Patient/p-ava' AND "
      "audit_leaf_text(leaf, 'action') = 'read' AND audit_leaf_text(leaf, 'outcome') = 'success' LIMIT 1";
  auto leafAt = [&](const std::string& index) {
    const std::string text = std::regex_replace(forged, std::regex("IDX"), index);
    return text + ", sha256('\\x00'::bytea || convert_to(" + text + ", 'UTF8'))";
  };
  {
    pqxx::connection app(f.db.uri());  // hie_app, the node's runtime role
    pqxx::work tx(app);
    tx.exec("INSERT INTO audit_log_leaves (origin, idx, leaf, leaf_hash, subtree_hashes) SELECT 'evil.example/log', 0, " +
            leafAt("0") + ", ''::bytea" + source);
    tx.exec("INSERT INTO audit_log_leaves (origin, idx, leaf, leaf_hash, subtree_hashes) SELECT 'bad origin', 0, " +
            leafAt("0") + ", ''::bytea" + source);
    const std::string next = tx.exec1("SELECT (max(idx) + 1)::text FROM audit_log_leaves WHERE "
                                      "origin = (SELECT origin FROM audit_log_checkpoints LIMIT 1)")[0]
                                 .as<std::string>();
    tx.exec("INSERT INTO audit_log_leaves (origin, idx, leaf, leaf_hash, subtree_hashes) SELECT "
            "(SELECT origin FROM audit_log_checkpoints LIMIT 1), " + next + ", " + leafAt(next) + ", ''::bytea" + source);
    tx.commit();
  }
  auto v = f.cli({"audit", "verify"});
  EXPECT_EQ(v.exitCode, 1) << v.output;
  EXPECT_TRUE(contains(v.output, "log evil.example/log leaf 0: unsigned-leaves: leaf 0 is covered by no checkpoint"))
      << v.output;
  EXPECT_TRUE(contains(v.output, "log bad origin: invalid-origin")) << v.output;
  EXPECT_TRUE(std::regex_search(v.output, std::regex("leaf \\d+: unsigned-leaves"))) << v.output;
  EXPECT_TRUE(contains(v.output, "verification FAILED")) << v.output;

  const std::string dom = reportDom({"--patient", "p-ava"}, "unsigned.html", 1);
  ASSERT_TRUE(contains(dom, "AUDIT TRAIL VERIFICATION FAILED")) << dom.substr(0, 4000);
  EXPECT_FALSE(contains(dom, "Audit trail verified"));
  EXPECT_TRUE(contains(dom, "unsigned-leaves"));
  EXPECT_TRUE(contains(dom, "invalid-origin"));
  // The forged reads are neither listed nor counted: the two real disclosures remain.
  EXPECT_FALSE(contains(dom, "6.6.6")) << dom;
  EXPECT_FALSE(contains(dom, "marketing")) << dom;
  EXPECT_TRUE(contains(dom, "2 disclosures.")) << dom;
  EXPECT_TRUE(contains(dom, "3 entries of the selected trail were not covered by this verification")) << dom;
}

// The same rows with the wrong --public-key: the log's real checkpoints fail, and a log of leaves
// without any checkpoint no longer passes as "nothing to check".
TEST_F(AuditReport, AWrongPublicKeyNeverVerifies) {
  f.node()->stop();
  auto other = audit::SigningKey::generate();
  ASSERT_TRUE(other);
  const std::string pub = writeFile(out.path(), "other.pub", other->publicPem());
  auto v = f.cli({"audit", "verify", "--public-key", pub});
  EXPECT_EQ(v.exitCode, 1) << v.output;
  EXPECT_TRUE(contains(v.output, "bad-checkpoint-signature")) << v.output;
  EXPECT_TRUE(contains(v.output, "unsigned-leaves")) << v.output;
}

TEST_F(AuditReport, BadOptionsWriteNoFile) {
  const std::string file = out.path() + "/never.html";
  for (const auto& bad : std::vector<std::vector<std::string>>{
           {"--from", "2026-02-30"},
           {"--to", "yesterday"},
           {"--from", "2026-03-02", "--to", "2026-03-01"},
           {"--patient", "../etc"},
           {"--witnesses", "many"},
           {"--hipaa"},
           {"extra"}}) {
    std::vector<std::string> args = {"audit", "report", "--html", file};
    args.insert(args.end(), bad.begin(), bad.end());
    auto r = f.cli(args);
    EXPECT_EQ(r.exitCode, 2) << bad.front() << ": " << r.output;
    EXPECT_FALSE(exists(file)) << bad.front();
  }
  auto missing = f.cli({"audit", "report"});
  EXPECT_EQ(missing.exitCode, 2);
  EXPECT_TRUE(contains(missing.output, "--html FILE")) << missing.output;
  auto noDir = f.cli({"audit", "report", "--html", out.path() + "/no/such/dir/r.html"});
  EXPECT_EQ(noDir.exitCode, 1) << noDir.output;
  // Said before any verification or read runs.
  EXPECT_TRUE(contains(noDir.output, "the directory " + out.path() + "/no/such/dir does not exist")) << noDir.output;
  EXPECT_FALSE(contains(noDir.output, "verif")) << noDir.output;
  auto dir = f.cli({"audit", "report", "--html", out.path()});
  EXPECT_EQ(dir.exitCode, 2) << dir.output;
}

}  // namespace
}  // namespace hie::testing

// Issue 13, item 4: auditors read only signed content. A trail of both formats --
// two v1 chains written through AuditStore, a v2 log written through
// PgAuditLogStore -- is read through a running node's /audit API and
// `hie-node audit export --format fhir`. Every filter is checked against a
// reference computed here from the events; then the database owner rewrites
// every copied column of audit_entries (and the stored v2 leaf hashes), and
// every answer stays byte for byte the same. Editing the signed text itself
// changes the answer: it is computed from the entry.
#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "audit/audit_store.h"
#include "audit/canonical_form.h"
#include "audit/pg_audit_log_store.h"
#include "audit/signing_key.h"
#include "audit/transparency_log.h"
#include "common/time.h"
#include "tests/support/fhir_validator.h"
#include "tests/support/node_fixture.h"

namespace hie::testing {
namespace {

using audit::AuditEvent;

const std::string kAuditorOrg = "urn:oid:2.16.840.1.113883.3.7009";
const std::string kOrgA = "urn:oid:2.16.840.1.113883.3.7001";
const std::string kOrgB = "urn:oid:2.16.840.1.113883.3.7002";
const std::string kOldChain = "node-a/2012-03-04T05-06-07Z/aaaaaaaaaaaa";
const std::string kNewChain = "node-a/2026-01-02T03-04-05Z/bbbbbbbbbbbb";

// Where an entry is, as the AuditEvent names it: (1, chain, seq) or (2, origin, index).
using Place = std::tuple<int, std::string, std::int64_t>;

struct Planted {
  Place place;
  AuditEvent event;
};

// "YYYY-MM-DD" of the day `daysAgo` days before now (UTC).
std::string dayBefore(int daysAgo) {
  return utc::fromEpoch(static_cast<std::int64_t>(std::time(nullptr)) - daysAgo * 86400LL).substr(0, 10);
}

// A deterministic mix of every kind of entry the filters tell apart.
AuditEvent makeEvent(int i, const std::string& time) {
  AuditEvent e;
  e.time = time;
  e.requestId = "r-" + std::to_string(i);
  if (i % 11 == 10) {  // a refused handshake
    e.eventType = "security-alert";
    e.action = "node-authentication";
    e.outcome = "denied";
    e.outcomeReason = "unknown_issuer";
    return e;
  }
  static const char* const kActions[] = {"read", "search", "capabilities", "read", "search", "audit-query"};
  static const char* const kOutcomes[] = {"success", "success", "denied", "error"};
  static const char* const kPurposes[] = {"TREAT", "PUBHLTH", "HPAYMT", "ETREAT", "PUBHLTH"};
  static const char* const kPatients[] = {"Patient/p1", "Patient/p2", ""};
  e.eventType = "rest";
  e.action = kActions[i % 6];
  e.outcome = kOutcomes[i % 4];
  if (e.outcome != "success") e.outcomeReason = e.outcome == "denied" ? "no_grant" : "http_400";
  e.organization = i % 3 == 0 ? kOrgB : kOrgA;
  e.patient = e.action == "capabilities" ? "" : kPatients[i % 7 % 3];
  e.purpose = kPurposes[i % 5];
  e.breakGlass = e.purpose == "ETREAT" && e.outcome == "success" && !e.patient.empty();
  e.method = "GET";
  e.path = e.action == "capabilities" ? "/fhir/metadata" : "/fhir/Patient";
  e.resourceType = "Patient";
  // Some successful searches found nothing: no entities, no disclosure.
  e.entities = e.outcome == "success" && !(e.action == "search" && i % 2 == 0) ? e.patient : "";
  e.httpStatus = e.outcome == "success" ? 200 : e.outcome == "denied" ? 403 : 400;
  return e;
}

// One AuditEvent query and what it must answer, decided from the events.
struct Query {
  std::string path;  // with its query string
  std::function<bool(const AuditEvent&)> matches;
  int count = 100;
  int offset = 0;
};

class SignedReads : public ::testing::Test {
 protected:
  void SetUp() override {
    f.migrate();
    f.addOrg(kAuditorOrg, "Network Audit Office", {"--role", "auditor"});
    auditor = f.memberCert({kAuditorOrg});
    auto key = audit::SigningKey::fromPemFile(f.dir.path() + "/audit-ed25519.pem");
    ASSERT_TRUE(key) << key.error().internal;

    // Times: two long ago (outside HIPAA's six years), the rest on the last three days, several
    // shared between chains and the log so that the order's tie-breaks are exercised.
    days = {dayBefore(3), dayBefore(2), dayBefore(1)};
    const std::vector<std::string> slots{"2012-03-04T05:06:07.008Z", "2012-03-04T05:06:07.009Z",
                                         days[0] + "T09:00:00.000Z", days[0] + "T23:59:59.999Z",
                                         days[1] + "T00:00:00.000Z", days[1] + "T12:30:00.500Z",
                                         days[2] + "T08:00:00.001Z", days[2] + "T08:00:00.002Z"};
    latest = days[2] + "T08:00:00.002Z";

    // v1: two chains through AuditStore, sealed with the node's key.
    audit::AuditStore store(f.db.uri());
    int i = 0;
    for (const std::string& chain : {kOldChain, kNewChain}) {
      ASSERT_TRUE(store.registerChain(chain, "node-a", key->publicPem()));
      audit::ChainHead head{chain, 0, audit::kGenesisHash};
      std::vector<audit::AuditRecord> records;
      for (int n = 0; n < 15; ++n, ++i) {
        AuditEvent e = makeEvent(i, slots[static_cast<std::size_t>(i) % slots.size()]);
        auto sealed = audit::seal(e, "node-a", head, *key);
        ASSERT_TRUE(sealed);
        records.push_back({*sealed, e});
        planted.push_back({Place{1, chain, sealed->seq}, e});
      }
      ASSERT_TRUE(store.append(records));
    }

    // v2: the node's log through PgAuditLogStore, two group commits, each with its signed checkpoint.
    origin = audit::defaultLogOrigin("node-a");
    audit::PgAuditLogStore log(f.db.uri());
    audit::merkle::Frontier frontier;
    for (int batch = 0; batch < 2; ++batch) {
      std::vector<audit::LogLeaf> leaves;
      for (int n = 0; n < 10; ++n, ++i) {
        AuditEvent e = makeEvent(i, slots[static_cast<std::size_t>(i * 3) % slots.size()]);
        audit::LogLeaf leaf;
        leaf.index = frontier.size();
        leaf.leaf = audit::canonicalJson(audit::leafObject(e, "node-a", leaf.index));
        leaf.hash = audit::merkle::leafHash(leaf.leaf);
        leaf.completed = frontier.append(leaf.hash);
        planted.push_back({Place{2, origin, static_cast<std::int64_t>(leaf.index)}, e});
        leaves.push_back(std::move(leaf));
      }
      auto checkpoint = audit::signTreeHead(audit::TreeHead{origin, frontier.size(), frontier.root()}, *key);
      ASSERT_TRUE(checkpoint) << checkpoint.error().internal;
      auto appended = log.append(origin, leaves, *checkpoint);
      ASSERT_TRUE(appended) << appended.error().internal;
    }
    // The node audits each query of the tests in a chain of its own, at the current time: after
    // `latest` (yesterday), so that "date=le<latest>" leaves those entries out.
    f.start();
  }

  // Every query's expectation, in the trail's order: time, then v1 before v2, chain or origin, position.
  std::vector<Place> expected(const Query& q) const {
    std::vector<const Planted*> hits;
    for (const auto& p : planted) {
      if (q.matches(p.event)) hits.push_back(&p);
    }
    std::sort(hits.begin(), hits.end(), [](const Planted* a, const Planted* b) {
      return std::tie(a->event.time, a->place) < std::tie(b->event.time, b->place);
    });
    std::vector<Place> out;
    for (const auto* p : hits) out.push_back(p->place);
    return out;
  }

  std::string get(const std::string& path) {
    auto r = f.get(auditor, path);
    EXPECT_EQ(r.status, 200) << path << "\n" << r.body;
    return r.body;
  }

  // The places a Bundle's AuditEvents name (their request entity's details), and its total.
  static std::pair<std::vector<Place>, long long> places(const std::string& body) {
    Poco::JSON::Parser parser;
    auto bundle = parser.parse(body).extract<Poco::JSON::Object::Ptr>();
    std::vector<Place> out;
    auto entries = bundle->getArray("entry");
    for (std::size_t i = 0; entries && i < entries->size(); ++i) {
      auto resource = entries->getObject(i)->getObject("resource");
      EXPECT_EQ(resource->getValue<std::string>("resourceType"), "AuditEvent") << body;
      auto entities = resource->getArray("entity");
      auto details = entities->getObject(entities->size() - 1)->getArray("detail");
      std::map<std::string, std::string> d;
      for (std::size_t k = 0; k < details->size(); ++k) {
        d[details->getObject(k)->getValue<std::string>("type")] = details->getObject(k)->getValue<std::string>("valueString");
      }
      out.emplace_back(d.count("chain") ? 1 : 2, d.count("chain") ? d["chain"] : d["origin"],
                       std::stoll(d.count("chain") ? d["seq"] : d["index"]));
    }
    return {out, bundle->has("total") ? bundle->getValue<long long>("total") : -1};
  }

  std::vector<Query> queries() const {
    const std::string upTo = "&date=le" + latest;  // leaves out the node's own entries of these queries
    auto isDisclosure = [](const AuditEvent& e) {
      return e.eventType == "rest" && (e.action == "read" || e.action == "search") && e.outcome == "success" &&
             !e.patient.empty() && !e.entities.empty();
    };
    auto recent = [](const AuditEvent& e) { return e.time.compare(0, 4, "2012") != 0; };
    return {
        {"/audit/AuditEvent?_count=100" + upTo, [](const AuditEvent&) { return true; }},
        {"/audit/AuditEvent?agent=" + kOrgB + upTo, [](const AuditEvent& e) { return e.organization == kOrgB; }},
        {"/audit/AuditEvent?patient=p1" + upTo, [](const AuditEvent& e) { return e.patient == "Patient/p1"; }},
        {"/audit/AuditEvent?patient=Patient/p2&outcome=success&agent=" + kOrgA + upTo,
         [](const AuditEvent& e) { return e.patient == "Patient/p2" && e.outcome == "success" && e.organization == kOrgA; }},
        {"/audit/AuditEvent?outcome=denied" + upTo, [](const AuditEvent& e) { return e.outcome == "denied"; }},
        {"/audit/AuditEvent?outcome=error" + upTo, [](const AuditEvent& e) { return e.outcome == "error"; }},
        // Dates alone: from the first millisecond of one day to the last of another.
        {"/audit/AuditEvent?date=ge" + days[0] + "&date=le" + days[1],
         [this](const AuditEvent& e) { return e.time >= days[0] + "T00:00:00.000Z" && e.time <= days[1] + "T23:59:59.999Z"; }},
        // A date-time with an offset is the same instant in UTC (02:00+02:00 = 00:00Z).
        {"/audit/AuditEvent?date=ge" + days[1] + "T02:00:00%2B02:00" + upTo,
         [this](const AuditEvent& e) { return e.time >= days[1] + "T00:00:00.000Z"; }},
        {"/audit/AuditEvent?date=le" + days[0] + "T23:59:59.998Z",
         [this](const AuditEvent& e) { return e.time <= days[0] + "T23:59:59.998Z"; }},
        // Paging: the third to fifth match.
        {"/audit/AuditEvent?_count=3&_offset=2&patient=p1" + upTo,
         [](const AuditEvent& e) { return e.patient == "Patient/p1"; }, 3, 2},
        {"/audit/disclosures?patient=p1",
         [isDisclosure](const AuditEvent& e) { return isDisclosure(e) && e.patient == "Patient/p1"; }},
        {"/audit/disclosures?patient=p2",
         [isDisclosure](const AuditEvent& e) { return isDisclosure(e) && e.patient == "Patient/p2"; }},
        // HIPAA: no treatment, payment or operations (here only PUBHLTH is none of them), six years.
        {"/audit/disclosures?patient=p1&hipaa=true",
         [isDisclosure, recent](const AuditEvent& e) {
           return isDisclosure(e) && e.patient == "Patient/p1" && e.purpose == "PUBHLTH" && recent(e);
         }},
        {"/audit/disclosures?patient=p2&hipaa=true&date=ge" + days[1],
         [isDisclosure, recent, this](const AuditEvent& e) {
           return isDisclosure(e) && e.patient == "Patient/p2" && e.purpose == "PUBHLTH" && recent(e) &&
                  e.time >= days[1] + "T00:00:00.000Z";
         }},
        {"/audit/disclosures?patient=p1&_count=2&_offset=1",
         [isDisclosure](const AuditEvent& e) { return isDisclosure(e) && e.patient == "Patient/p1"; }, 2, 1},
    };
  }

  // Every query's answer, checked against its expectation; returns the bodies.
  std::vector<std::string> askAll() {
    std::vector<std::string> bodies;
    for (const auto& q : queries()) {
      SCOPED_TRACE(q.path);
      const std::string body = get(q.path);
      const auto all = expected(q);
      EXPECT_FALSE(all.empty()) << "a query that matches nothing proves little";
      const auto got = places(body);
      // The page asked for: count matches from offset on.
      const std::size_t first = std::min(all.size(), static_cast<std::size_t>(q.offset));
      const std::size_t last = std::min(all.size(), first + static_cast<std::size_t>(q.count));
      EXPECT_EQ(got.first, std::vector<Place>(all.begin() + static_cast<std::ptrdiff_t>(first),
                                              all.begin() + static_cast<std::ptrdiff_t>(last)));
      EXPECT_EQ(got.second, static_cast<long long>(all.size()));
      bodies.push_back(body);
    }
    return bodies;
  }

  std::string fhirExport(const std::vector<std::string>& range) {
    std::vector<std::string> args{"audit", "export", "--format", "fhir"};
    args.insert(args.end(), range.begin(), range.end());
    auto r = f.cli(args);
    EXPECT_EQ(r.exitCode, 0) << r.output;
    // stdout (the Bundle) and stderr (the count) come together: the Bundle is its one line starting with '{'.
    std::stringstream lines(r.output);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty() && line[0] == '{') return line;
    }
    ADD_FAILURE() << r.output;
    return "";
  }

  // As the database owner, with the append-only triggers off: what a superuser could do.
  void tamper(const std::string& sql) {
    f.db.exec("BEGIN; ALTER TABLE audit_entries DISABLE TRIGGER USER; ALTER TABLE audit_log_leaves DISABLE TRIGGER USER; " +
              sql + "; ALTER TABLE audit_entries ENABLE TRIGGER USER; ALTER TABLE audit_log_leaves ENABLE TRIGGER USER; COMMIT");
  }

  NodeFixture f;
  Credential auditor;
  std::vector<std::string> days;
  std::string latest, origin;
  std::vector<Planted> planted;
};

TEST_F(SignedReads, EveryFilterAnswersFromBothFormatsAndNoCopiedColumnChangesAnAnswer) {
  ASSERT_EQ(planted.size(), 50u);
  const auto before = askAll();
  // Both formats are in the answers (the unfiltered query lists all 50 planted entries).
  EXPECT_TRUE(contains(before[0], "\"type\":\"origin\",\"valueString\":\"" + origin + "\"")) << before[0];
  EXPECT_TRUE(contains(before[0], "\"type\":\"chain\",\"valueString\":\"" + kOldChain + "\"")) << before[0];
  const std::string exportAll = fhirExport({"--to", latest});
  const std::string exportDays = fhirExport({"--from", days[0], "--to", days[1] + "T23:59:59Z"});
  const auto exportedAll = places(exportAll).first;
  EXPECT_EQ(exportedAll, expected(Query{"", [](const AuditEvent&) { return true; }}));
  EXPECT_EQ(places(exportDays).first, expected(Query{"", [this](const AuditEvent& e) {
              return e.time >= days[0] + "T00:00:00.000Z" && e.time <= days[1] + "T23:59:59.000Z";
            }}));
  // The AuditEvents of v2 leaves are valid FHIR R4 like those of v1 entries.
  auto valid = validateFhirR4({{"audit-both-formats", before[0]}, {"audit-export-both-formats", exportAll}}, f.dir.path());
  EXPECT_EQ(valid.exitCode, 0) << valid.output;

  // Every copied column of every v1 row changed to what would move it in or out of each filter, and the
  // stored v2 leaf hashes replaced: as a superuser could. (Blanking `patient` of a break-glass read
  // used to remove it from /audit/disclosures.)
  tamper("UPDATE audit_entries SET "
         "patient = CASE WHEN patient = '' THEN 'Patient/p1' WHEN patient = 'Patient/p1' THEN '' ELSE 'Patient/p1' END, "
         "organization = CASE WHEN organization = '" + kOrgA + "' THEN '" + kOrgB + "' ELSE '" + kOrgA + "' END, "
         "outcome = CASE outcome WHEN 'success' THEN 'denied' WHEN 'denied' THEN 'error' ELSE 'success' END, "
         "purpose = CASE WHEN purpose = 'PUBHLTH' THEN 'TREAT' ELSE 'PUBHLTH' END, "
         "break_glass = NOT break_glass, "
         "recorded_at = CASE WHEN recorded_at < '2020-01-01' THEN now() - interval '2 days' ELSE '2012-01-01' END, "
         "event_type = CASE WHEN event_type = 'rest' THEN 'security-alert' ELSE 'rest' END, "
         "action = CASE WHEN action = 'read' THEN 'capabilities' ELSE 'read' END, "
         "request_id = 'forged-' || seq; "
         "UPDATE audit_log_leaves SET leaf_hash = '\\x" + std::string(64, '0') + "'::bytea");
  const auto after = askAll();
  ASSERT_EQ(after.size(), before.size());
  for (std::size_t i = 0; i < before.size(); ++i) EXPECT_EQ(after[i], before[i]) << queries()[i].path;
  EXPECT_EQ(fhirExport({"--to", latest}), exportAll);
  EXPECT_EQ(fhirExport({"--from", days[0], "--to", days[1] + "T23:59:59Z"}), exportDays);
}

TEST_F(SignedReads, TheAnswerIsComputedFromTheSignedTextItself) {
  auto disclosures = [&] { return places(get("/audit/disclosures?patient=p1")); };
  const auto before = disclosures();
  ASSERT_GE(before.first.size(), 4u);
  // The first disclosure of each format, its signed text edited: it is no longer a disclosure of p1.
  const auto firstOf = [&](int format) {
    return *std::find_if(before.first.begin(), before.first.end(), [&](const Place& p) { return std::get<0>(p) == format; });
  };
  const Place v1 = firstOf(1), v2 = firstOf(2);
  tamper("UPDATE audit_entries SET canonical = replace(canonical, '\"patient\":\"Patient/p1\"', '\"patient\":\"Patient/p9\"') "
         "WHERE chain_id = '" + std::get<1>(v1) + "' AND seq = " + std::to_string(std::get<2>(v1)) + "; "
         "UPDATE audit_log_leaves SET leaf = replace(leaf, '\"patient\":\"Patient/p1\"', '\"patient\":\"Patient/p9\"') "
         "WHERE origin = '" + std::get<1>(v2) + "' AND idx = " + std::to_string(std::get<2>(v2)));
  auto after = disclosures();
  std::vector<Place> rest;
  for (const auto& p : before.first) {
    if (p != v1 && p != v2) rest.push_back(p);
  }
  EXPECT_EQ(after.first, rest);
  EXPECT_EQ(after.second, before.second - 2);
  auto p9 = places(get("/audit/AuditEvent?patient=p9&date=le" + latest));
  EXPECT_EQ(std::set<Place>(p9.first.begin(), p9.first.end()), (std::set<Place>{v1, v2}));
  EXPECT_EQ(p9.second, 2);
  // Such an edit is what `hie-node audit verify` reports (its report is verify's own business).
  auto verify = f.cli({"audit", "verify"});
  EXPECT_EQ(verify.exitCode, 1) << verify.output;
}

TEST_F(SignedReads, AnImpossibleDateIsRefusedAndAnEmptyAnswerHasNoEntries) {
  for (const char* date : {"ge2026-02-30", "le2026-11-26T25:00:00Z", "ge2026-13-99"}) {
    auto r = f.get(auditor, std::string("/audit/AuditEvent?date=") + date);
    EXPECT_EQ(r.status, 400) << date << " " << r.body;
  }
  const std::string body = get("/audit/AuditEvent?date=le2011-12-31");
  EXPECT_TRUE(contains(body, "\"total\":0")) << body;
  EXPECT_FALSE(contains(body, "\"entry\"")) << body;
  auto bad = f.cli({"audit", "export", "--format", "fhir", "--from", "2026-02-30"});
  EXPECT_EQ(bad.exitCode, 2) << bad.output;
}

}  // namespace
}  // namespace hie::testing

// The audit report's analysis and page (audit/audit_report.h) on synthetic entries: counts over
// time, denied and break-glass lists, each unusual-pattern rule with and without a finding, the
// patient's sentences, and hostile text coming out inert.
#include "audit/audit_report.h"

#include <gtest/gtest.h>

#include <regex>

#include "common/json_writer.h"

namespace hie::audit {
namespace {

struct Spec {
  std::string time;
  std::string organization = "urn:oid:1.2.3";
  std::string patient = "Patient/p-ava";
  std::string outcome = "success";
  std::string action = "read";
  std::string purpose = "TREAT";
  std::string reason = "";
  std::string resourceType = "Observation";
  std::string resourceId = "obs-1";
  std::string path = "/fhir/Observation/obs-1";
  bool breakGlass = false;
  std::int64_t resultCount = 1;
};

TrailEntry leaf(const Spec& s, std::int64_t index = 0) {
  JsonWriter j;
  j.beginObject()
      .member("action", s.action)
      .member("breakGlass", s.breakGlass)
      .member("entities", s.resourceType + "/" + s.resourceId)
      .member("eventType", "rest")
      .member("httpStatus", static_cast<long long>(s.outcome == "success" ? 200 : 403))
      .member("organization", s.organization)
      .member("outcome", s.outcome)
      .member("outcomeReason", s.reason)
      .member("path", s.path)
      .member("patient", s.patient)
      .member("purpose", s.purpose)
      .member("requestId", "req-" + std::to_string(index))
      .member("resourceId", s.resourceId)
      .member("resourceType", s.resourceType)
      .member("resultCount", static_cast<long long>(s.resultCount))
      .member("subjectDn", "CN=member")
      .member("time", s.time)
      .endObject();
  return TrailEntry::fromLeaf("example.org/log", index, j.take());
}

std::string at(int day, int hour, int minute = 0, int second = 0) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "2026-12-%02dT%02d:%02d:%02d.000Z", day, hour, minute, second);
  return buf;
}

ReportData build(const std::vector<Spec>& specs, ReportRules rules = {}) {
  ReportBuilder b(rules);
  std::int64_t i = 0;
  for (const auto& s : specs) b.add(leaf(s, i++));
  return b.finish();
}

std::vector<Finding> of(const ReportData& d, const std::string& rule) {
  std::vector<Finding> out;
  for (const auto& f : d.findings) {
    if (f.rule == rule) out.push_back(f);
  }
  return out;
}

TEST(AuditReport, ReadsTheSignedFieldsOfAnEntry) {
  Spec s;
  s.time = at(2, 14, 3, 9);
  auto e = reportEntry(leaf(s, 7));
  ASSERT_TRUE(e) << e.error().internal;
  EXPECT_EQ(e->organization, "urn:oid:1.2.3");
  EXPECT_EQ(e->patient, "Patient/p-ava");
  EXPECT_EQ(e->requestId, "req-7");
  EXPECT_EQ(e->name, "audit log entry example.org/log #7");
  EXPECT_EQ(e->epochSeconds % 86400, 14 * 3600 + 3 * 60 + 9);
  EXPECT_FALSE(reportEntry(TrailEntry::fromLeaf("o", 0, "not json")));
  EXPECT_FALSE(reportEntry(TrailEntry::fromLeaf("o", 0, R"({"time":"yesterday"})")));
}

TEST(AuditReport, CountsByHourOrganizationAndOutcome) {
  Spec a, b, c, out;
  a.time = at(2, 9, 10);
  b.time = at(2, 11, 5);
  b.organization = "urn:oid:9.9";
  b.outcome = "denied";
  b.reason = "no_grant";
  c.time = at(2, 11, 50);
  c.breakGlass = true;
  c.purpose = "ETREAT";
  out.time = at(2, 11, 55);
  out.action = "peer-call";  // an outbound call is not an access
  auto d = build({a, b, c, out});
  EXPECT_EQ(d.requests, 3);
  EXPECT_TRUE(d.hourly);
  ASSERT_EQ(d.buckets.size(), 3u);
  EXPECT_EQ(d.buckets[0], "2026-12-02 09:00");
  EXPECT_EQ(d.byOrganization["urn:oid:1.2.3"], (std::vector<std::int64_t>{1, 0, 1}));
  EXPECT_EQ(d.byOrganization["urn:oid:9.9"], (std::vector<std::int64_t>{0, 0, 1}));
  EXPECT_EQ(d.byOutcome["denied"], (std::vector<std::int64_t>{0, 0, 1}));
  EXPECT_EQ(d.deniedTotal, 1);
  ASSERT_EQ(d.denied.size(), 1u);
  EXPECT_EQ(d.denied[0].outcomeReason, "no_grant");
  EXPECT_EQ(d.breakGlassTotal, 1);
  ASSERT_EQ(d.topOrganizations.size(), 2u);
  EXPECT_EQ(d.topOrganizations[0], (std::pair<std::string, std::int64_t>{"urn:oid:1.2.3", 2}));
  EXPECT_EQ(d.topPatients[0].second, 3);
  EXPECT_TRUE(d.findings.empty());
}

TEST(AuditReport, LongerPeriodsCountByDay) {
  Spec a, b;
  a.time = at(1, 9);
  b.time = at(10, 9);
  auto d = build({a, b});
  EXPECT_FALSE(d.hourly);
  ASSERT_EQ(d.buckets.size(), 10u);
  EXPECT_EQ(d.buckets.back(), "2026-12-10");
}

TEST(AuditReport, PeriodsBeyondThirteenMonthsCountByMonth) {
  Spec a, b, c;
  a.time = "2025-01-15T09:00:00.000Z";
  b.time = "2025-06-30T23:59:59.999Z";
  c.time = "2026-03-01T00:00:00.000Z";
  auto d = build({a, b, c});
  EXPECT_FALSE(d.hourly);
  ASSERT_EQ(d.buckets.size(), 15u);
  EXPECT_EQ(d.buckets.front(), "2025-01");
  EXPECT_EQ(d.buckets[5], "2025-06");
  EXPECT_EQ(d.buckets.back(), "2026-03");
  const auto& success = d.byOutcome.at("success");
  EXPECT_EQ(success[0], 1);
  EXPECT_EQ(success[5], 1);
  EXPECT_EQ(success[14], 1);
  EXPECT_EQ(success[1] + success[6] + success[13], 0);
}

// The eight busiest organizations are drawn one by one, the rest together, in a grey of their own
// (not the one of requests with no organization).
TEST(AuditReport, TheQuietestOrganizationsAreChartedTogether) {
  std::vector<Spec> specs;
  for (int org = 0; org < 10; ++org) {
    for (int n = 0; n <= 10 - org; ++n) {  // org 0 busiest, org 9 quietest
      Spec s;
      s.time = at(2, 9, org, n);
      s.organization = "urn:oid:1.2." + std::to_string(org);
      specs.push_back(s);
    }
  }
  Spec none;
  none.time = at(2, 10);
  none.organization = "";
  specs.push_back(none);
  auto d = build(specs);
  EXPECT_EQ(d.byOrganization.size(), 10u);  // 8 drawn, (other organizations), (no organization)
  ASSERT_EQ(d.byOrganization.count("(other organizations)"), 1u);
  EXPECT_EQ(d.byOrganization.at("(other organizations)")[0], 3 + 2);  // orgs 8 and 9
  EXPECT_EQ(d.byOrganization.count("urn:oid:1.2.8"), 0u);
  EXPECT_EQ(d.byOrganization.count("urn:oid:1.2.7"), 1u);
  ReportPage p;
  p.data = d;
  const std::string html = renderReportHtml(p);
  EXPECT_NE(html.find("(other organizations): 5</title>"), std::string::npos);
  EXPECT_NE(html.find("fill=\"#616161\"><title>2026-12-02 09:00: (other organizations)"), std::string::npos) << html;
  EXPECT_NE(html.find("fill=\"#bdbdbd\"><title>2026-12-02 10:00: (no organization)"), std::string::npos) << html;
}

TEST(AuditReport, UnreadableEntriesAreCountedAndNamed) {
  ReportBuilder b;
  b.add(TrailEntry::fromLeaf("example.org/log", 3, "{broken"));
  auto d = b.finish();
  EXPECT_EQ(d.unreadable, 1);
  ASSERT_EQ(d.unreadableNames.size(), 1u);
  EXPECT_EQ(d.unreadableNames[0], "audit log entry example.org/log #3");
  EXPECT_EQ(d.requests, 0);
}

// Days 1-4: 5 requests a day (9:00); day 5: n.
std::vector<Spec> dailyThen(int n) {
  std::vector<Spec> specs;
  for (int day = 1; day <= 4; ++day) {
    for (int i = 0; i < 5; ++i) {
      Spec s;
      s.time = at(day, 9, i);
      specs.push_back(s);
    }
  }
  for (int i = 0; i < n; ++i) {
    Spec s;
    s.time = at(5, 9, i % 60, i / 60);
    specs.push_back(s);
  }
  return specs;
}

TEST(AuditReport, VolumeJumpAboveThreeTimesTheMedian) {
  auto d = build(dailyThen(20));
  auto jumps = of(d, "volume-jump");
  ASSERT_EQ(jumps.size(), 1u);
  EXPECT_EQ(jumps[0].when, "2026-12-05");
  EXPECT_EQ(jumps[0].organization, "urn:oid:1.2.3");
  EXPECT_NE(jumps[0].detail.find("20 requests"), std::string::npos) << jumps[0].detail;
}

TEST(AuditReport, NoVolumeJumpAtThreeTimesOrBelowTheMinimum) {
  EXPECT_TRUE(of(build(dailyThen(15)), "volume-jump").empty());  // 3 x 5: not above
  ReportRules high;
  high.jumpMinimum = 50;
  EXPECT_TRUE(of(build(dailyThen(40), high), "volume-jump").empty());
  // Without three previous days there is nothing to compare with.
  std::vector<Spec> fresh;
  for (int i = 0; i < 60; ++i) {
    Spec s;
    s.time = at(5, 9, i);
    fresh.push_back(s);
  }
  EXPECT_TRUE(of(build(fresh), "volume-jump").empty());
}

// Friday 30, a weekend without requests, Monday 30: the weekend is no history, Monday no jump.
TEST(AuditReport, NoVolumeJumpAfterDaysWithoutRequests) {
  std::vector<Spec> specs;
  for (int day : {1, 2, 3, 4, 7}) {  // 2026-12-04 is a Friday
    for (int i = 0; i < 30; ++i) {
      Spec s;
      s.time = at(day, 9, i);
      specs.push_back(s);
    }
  }
  EXPECT_TRUE(of(build(specs), "volume-jump").empty());
  // A real jump after a weekend still is one: 100 on Monday.
  for (int i = 30; i < 100; ++i) {
    Spec s;
    s.time = at(7, 10, i % 60, i / 60);
    specs.push_back(s);
  }
  auto jumps = of(build(specs), "volume-jump");
  ASSERT_EQ(jumps.size(), 1u);
  EXPECT_EQ(jumps[0].when, "2026-12-07");
  EXPECT_NE(jumps[0].detail.find("median of its 4 previous days with requests (30)"), std::string::npos)
      << jumps[0].detail;
}

TEST(AuditReport, UnusualHoursOfAnOrganization) {
  std::vector<Spec> specs;
  for (int day = 1; day <= 5; ++day) {
    for (int i = 0; i < 12; ++i) {
      Spec s;
      s.time = at(day, 10 + i % 4, i);
      specs.push_back(s);
    }
  }
  auto quiet = build(specs);
  EXPECT_TRUE(of(quiet, "unusual-hours").empty());
  Spec night;
  night.time = at(6, 3, 17);
  specs.push_back(night);
  auto d = build(specs);
  auto unusual = of(d, "unusual-hours");
  ASSERT_EQ(unusual.size(), 1u);
  EXPECT_EQ(unusual[0].when, "03:00 UTC");
  // Below the minimum of requests the organization's hours are not judged.
  ReportRules rules;
  rules.unusualHourMinimum = 100;
  EXPECT_TRUE(of(build(specs, rules), "unusual-hours").empty());
}

TEST(AuditReport, ManyPatientsInTenMinutesReportedOnceWithItsRealSize) {
  std::vector<Spec> specs;
  for (int i = 0; i < 25; ++i) {
    Spec s;
    s.time = at(2, 14, i / 5, i % 5 * 10);
    s.patient = "Patient/p-" + std::to_string(i);
    specs.push_back(s);
  }
  auto d = build(specs);
  auto bursts = of(d, "many-patients");
  ASSERT_EQ(bursts.size(), 1u);
  EXPECT_EQ(bursts[0].when, "2 Dec 2026 at 14:00 UTC");
  EXPECT_EQ(bursts[0].detail,
            "25 different patients between 2 Dec 2026 at 14:00 UTC and 2 Dec 2026 at 14:04 UTC (at most 25 within 10 "
            "minutes; 25 requests)");
}

// 40 patients in one minute: one burst of 40, not "20 different patients".
TEST(AuditReport, ABurstIsReportedWithAllItsPatients) {
  std::vector<Spec> specs;
  for (int i = 0; i < 40; ++i) {
    Spec s;
    s.time = at(2, 14, 0, i);
    s.patient = "Patient/p-" + std::to_string(i);
    specs.push_back(s);
  }
  auto bursts = of(build(specs), "many-patients");
  ASSERT_EQ(bursts.size(), 1u);
  EXPECT_EQ(bursts[0].detail.rfind("40 different patients between", 0), 0u) << bursts[0].detail;
  EXPECT_NE(bursts[0].detail.find("at most 40 within 10 minutes; 40 requests"), std::string::npos) << bursts[0].detail;
}

// Two bursts of 20 other patients each, the second once the first has left the window: two findings.
// Two bursts within one window are one burst of 40 (the window never falls below the threshold).
TEST(AuditReport, ASecondBurstIsReportedToo) {
  std::vector<Spec> apart, close;
  for (int i = 0; i < 40; ++i) {
    Spec s;
    s.patient = "Patient/p-" + std::to_string(i);
    s.time = i < 20 ? at(2, 14, 0, i) : at(2, 14, 30, i - 20);
    apart.push_back(s);
    s.time = i < 20 ? at(2, 14, 0, i) : at(2, 14, 9, i - 20);
    close.push_back(s);
  }
  auto two = of(build(apart), "many-patients");
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].when, "2 Dec 2026 at 14:00 UTC");
  EXPECT_EQ(two[0].detail.rfind("20 different patients between", 0), 0u) << two[0].detail;
  EXPECT_EQ(two[1].when, "2 Dec 2026 at 14:30 UTC");
  EXPECT_EQ(two[1].detail.rfind("20 different patients between", 0), 0u) << two[1].detail;
  auto one = of(build(close), "many-patients");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].detail.rfind("40 different patients between 2 Dec 2026 at 14:00 UTC and 2 Dec 2026 at 14:09 UTC", 0),
            0u)
      << one[0].detail;
}

// One continuous scan, a new patient every 10 seconds for an hour: one finding for the whole scan.
TEST(AuditReport, ALongScanIsOneBurst) {
  std::vector<Spec> specs;
  for (int i = 0; i < 360; ++i) {
    Spec s;
    s.time = at(2, 14 + i / 360, i % 360 / 6, i % 6 * 10);
    s.patient = "Patient/p-" + std::to_string(i);
    specs.push_back(s);
  }
  auto bursts = of(build(specs), "many-patients");
  ASSERT_EQ(bursts.size(), 1u);
  EXPECT_EQ(bursts[0].detail,
            "360 different patients between 2 Dec 2026 at 14:00 UTC and 2 Dec 2026 at 14:59 UTC (at most 60 within 10 "
            "minutes; 360 requests)");
}

TEST(AuditReport, ManyRequestsForFewPatientsOrSpreadOutAreNoBurst) {
  std::vector<Spec> few, spread;
  for (int i = 0; i < 40; ++i) {
    Spec s;
    s.time = at(2, 14, i / 10, i % 10);
    s.patient = "Patient/p-" + std::to_string(i % 5);
    few.push_back(s);
    Spec t;
    t.time = at(2 + i / 24, i % 24, 0);  // one patient an hour
    t.patient = "Patient/q-" + std::to_string(i);
    spread.push_back(t);
  }
  EXPECT_TRUE(of(build(few), "many-patients").empty());
  EXPECT_TRUE(of(build(spread), "many-patients").empty());
}

TEST(AuditReport, DisclosureInPlainLanguage) {
  Spec s;
  s.time = at(2, 14, 3);
  auto e = reportEntry(leaf(s));
  ASSERT_TRUE(e);
  std::map<std::string, std::string> names{{"urn:oid:1.2.3", "Lakeside Clinic"}};
  EXPECT_EQ(disclosureSentence(*e, names),
            "On 2 Dec 2026 at 14:03 UTC, Lakeside Clinic (urn:oid:1.2.3) read your Observation record obs-1 for "
            "treatment.");
  s.action = "search";
  s.resultCount = 3;
  s.purpose = "PUBHLTH";
  s.breakGlass = true;
  auto search = reportEntry(leaf(s));
  const std::string text = disclosureSentence(*search, {});
  EXPECT_NE(text.find("the organization urn:oid:1.2.3 searched your Observation records and received 3 records for "
                      "public health."),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("break-glass"), std::string::npos);
  s.purpose = "MADEUP";
  EXPECT_NE(disclosureSentence(*reportEntry(leaf(s)), {}).find("for a purpose given as \"MADEUP\""), std::string::npos);
}

ReportPage pageOf(const std::vector<Spec>& specs) {
  ReportPage p;
  p.node = "node-a";
  p.generatedAt = "2026-12-02T15:00:00Z";
  p.data = build(specs);
  p.verification.leaves = specs.size();
  p.verification.logs.push_back(VerificationSummary::Log{"example.org/log", specs.size(), specs.size(), 0, 0});
  p.organizationNames = {{"urn:oid:1.2.3", "Lakeside Clinic"}};
  return p;
}

TEST(AuditReport, PageIsSelfContainedAndSaysVerified) {
  Spec a;
  a.time = at(2, 9);
  const std::string html = renderReportHtml(pageOf({a}));
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("Audit trail verified"), std::string::npos);
  EXPECT_NE(html.find("Lakeside Clinic (urn:oid:1.2.3)"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("No unusual patterns found by these rules."), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_FALSE(std::regex_search(html, std::regex(R"((src|href)\s*=)", std::regex::icase)));
  EXPECT_FALSE(std::regex_search(html, std::regex(R"(url\s*\()", std::regex::icase)));
  EXPECT_EQ(html.find("@import"), std::string::npos);
}

TEST(AuditReport, FailedVerificationComesFirstAndLoud) {
  Spec a;
  a.time = at(2, 9);
  ReportPage p = pageOf({a});
  p.verification.problems = {"log example.org/log leaf 0: hash-mismatch: <b>altered</b>"};
  p.verification.placesWithProblems = 1;
  const std::string html = renderReportHtml(p);
  const auto failed = html.find("AUDIT TRAIL VERIFICATION FAILED");
  ASSERT_NE(failed, std::string::npos);
  EXPECT_LT(failed, html.find("Requests over time"));
  EXPECT_EQ(html.find("Audit trail verified"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;altered&lt;/b&gt;"), std::string::npos);
}

TEST(AuditReport, HostileTextInEntriesComesOutInert) {
  Spec a;
  a.time = at(2, 9);
  a.outcome = "denied";
  a.reason = "<script>alert(1)</script>";
  a.path = "/fhir/\"><img src=x onerror=alert(2)>";
  a.organization = "urn:oid:1.2.3\"><script>alert(3)</script>";
  a.patient = "Patient/<script>alert(4)</script>";
  ReportPage p = pageOf({a});
  p.patient = "x<script>";
  auto e = reportEntry(leaf(a));
  ASSERT_TRUE(e);
  p.disclosures = {*e};
  p.disclosuresTotal = 1;
  const std::string html = renderReportHtml(p);
  EXPECT_EQ(html.find("<script"), std::string::npos) << html;
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("&quot;&gt;&lt;img src=x"), std::string::npos);
}

TEST(AuditReport, PatientPageHasTheAccountingAndNoOtherPatients) {
  Spec a;
  a.time = at(2, 14, 3);
  ReportPage p = pageOf({a});
  p.patient = "p-ava";
  p.disclosures = {*reportEntry(leaf(a))};
  p.disclosuresTotal = 1;
  const std::string html = renderReportHtml(p);
  EXPECT_NE(html.find("Accounting of disclosures for patient p-ava"), std::string::npos);
  EXPECT_NE(html.find("On 2 Dec 2026 at 14:03 UTC, Lakeside Clinic (urn:oid:1.2.3) read your Observation record"),
            std::string::npos);
  EXPECT_NE(html.find("not in a HIPAA"), std::string::npos);  // TREAT is treatment
  EXPECT_EQ(html.find("<th>patient</th><th>requests</th>"), std::string::npos);
  EXPECT_EQ(html.find("Unusual patterns"), std::string::npos);
}

TEST(AuditReport, EscapesEveryMarkupCharacter) { EXPECT_EQ(htmlEscape("<a href='x'>&\""), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;"); }

}  // namespace
}  // namespace hie::audit

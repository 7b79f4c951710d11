#include "audit/audit_report.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "common/purpose_of_use.h"
#include "common/time.h"

namespace hie::audit {
namespace {

constexpr std::int64_t kHour = 3600;
constexpr std::int64_t kDay = 86400;
const char* const kNoOrganization = "(no organization)";
const char* const kOtherOrganizations = "(other organizations)";
constexpr std::size_t kChartSeries = 8;  // organizations drawn one by one; the rest together

// Entry times are RFC 3339 UTC with milliseconds: 2026-11-26T18:52:19.123Z.
bool epochOf(const std::string& t, std::int64_t& out) {
  if (t.size() != 24 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':' || t[19] != '.' ||
      t[23] != 'Z') {
    return false;
  }
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22}) {
    if (t[i] < '0' || t[i] > '9') return false;
  }
  auto num = [&t](std::size_t at, std::size_t n) { return std::stoi(t.substr(at, n)); };
  const int month = num(5, 2), day = num(8, 2), hour = num(11, 2), minute = num(14, 2), second = num(17, 2);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return false;
  out = utc::daysFromCivil(num(0, 4), month, day) * kDay + hour * kHour +
        minute * 60 + second;
  return true;
}

std::string two(unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02u", v % 100);
  return buf;
}
std::string dayText(std::int64_t days) {
  const utc::CivilDate c = utc::civilFromDays(days);
  return std::to_string(c.year) + "-" + two(static_cast<unsigned>(c.month)) + "-" + two(static_cast<unsigned>(c.day));
}

// "2 Dec 2026 at 14:03 UTC"
std::string spokenTime(std::int64_t epoch) {
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::int64_t days = utc::floorDiv(epoch, kDay), rest = epoch - days * kDay;
  const utc::CivilDate c = utc::civilFromDays(days);
  return std::to_string(c.day) + " " + kMonths[c.month - 1] + " " + std::to_string(c.year) + " at " +
         two(static_cast<unsigned>(rest / kHour)) + ":" + two(static_cast<unsigned>(rest % kHour / 60)) + " UTC";
}

std::string plural(std::int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// Outbound calls this node made are not accesses to it.
bool counted(const ReportEntry& e) { return e.action != "peer-call" && e.action != "witness-submit"; }

std::int64_t median(std::vector<std::int64_t> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::vector<std::pair<std::string, std::int64_t>> topOf(const std::map<std::string, std::int64_t>& totals,
                                                        std::size_t n) {
  std::vector<std::pair<std::string, std::int64_t>> all(totals.begin(), totals.end());
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (all.size() > n) all.resize(n);
  return all;
}

}  // namespace

Result<ReportEntry> reportEntry(const TrailEntry& entry) {
  ReportEntry r;
  r.name = entry.name();
  try {
    Poco::JSON::Parser parser;
    auto in = parser.parse(entry.text).extract<Poco::JSON::Object::Ptr>();
    if (!in) return fail(ErrorCode::kInvalidInput, r.name + " is not a JSON object");
    auto str = [&in](const char* key) { return in->has(key) ? in->getValue<std::string>(key) : std::string(); };
    r.time = str("time");
    r.eventType = str("eventType");
    r.action = str("action");
    r.outcome = str("outcome");
    r.outcomeReason = str("outcomeReason");
    r.organization = str("organization");
    r.patient = str("patient");
    r.resourceType = str("resourceType");
    r.resourceId = str("resourceId");
    r.entities = str("entities");
    r.purpose = str("purpose");
    r.path = str("path");
    r.requestId = str("requestId");
    r.subjectDn = str("subjectDn");
    r.remoteAddress = str("remoteAddress");
    r.breakGlass = in->has("breakGlass") && in->getValue<bool>("breakGlass");
    r.httpStatus = in->has("httpStatus") ? in->getValue<std::int64_t>("httpStatus") : 0;
    r.resultCount = in->has("resultCount") ? in->getValue<std::int64_t>("resultCount") : 0;
  } catch (const std::exception& e) {
    return fail(ErrorCode::kInvalidInput, r.name + " cannot be read: " + e.what());
  }
  if (!epochOf(r.time, r.epochSeconds)) return fail(ErrorCode::kInvalidInput, r.name + " has no well-formed time");
  return r;
}

std::string VerificationSummary::checkedText() const {
  return "checked " + plural(static_cast<std::int64_t>(leaves), "leaf", "leaves") + " in " +
         plural(static_cast<std::int64_t>(logs.size()), "log", "logs") + " and " +
         plural(v1Entries, "v1 entry", "v1 entries") + " in " +
         plural(static_cast<std::int64_t>(chains), "chain", "chains") + ", " +
         plural(static_cast<std::int64_t>(checkpoints), "checkpoint", "checkpoints");
}

bool VerificationSummary::covers(const TrailEntry& entry) const {
  if (entry.position < 0) return false;
  if (entry.format == TrailEntry::Format::kLog) {
    auto at = verifiedLeaves.find(entry.log);
    return at != verifiedLeaves.end() && static_cast<std::uint64_t>(entry.position) < at->second;
  }
  auto at = verifiedSeqs.find(entry.log);
  return at != verifiedSeqs.end() && entry.position <= at->second;
}

ReportBuilder::ReportBuilder(ReportRules rules) : rules_(rules) {}

void ReportBuilder::add(const TrailEntry& entry) {
  auto e = reportEntry(entry);
  if (!e) {
    ++data_.unreadable;
    if (data_.unreadableNames.size() < rules_.listLimit) data_.unreadableNames.push_back(entry.name());
    return;
  }
  add(*e);
}

void ReportBuilder::add(const ReportEntry& e) {
  if (!counted(e)) return;
  ++data_.requests;
  if (data_.first.empty()) data_.first = e.time;
  data_.last = e.time;
  const std::int64_t hour = utc::floorDiv(e.epochSeconds, kHour);
  ++orgHours_[e.organization][hour];
  ++outcomeHours_[e.outcome][hour];
  if (!e.organization.empty()) ++orgTotals_[e.organization];
  if (!e.patient.empty()) ++patientTotals_[e.patient];
  if (e.outcome == "denied") {
    ++data_.deniedTotal;
    if (data_.denied.size() < rules_.listLimit) data_.denied.push_back(e);
  }
  if (e.breakGlass) {
    ++data_.breakGlassTotal;
    if (data_.breakGlass.size() < rules_.listLimit) data_.breakGlass.push_back(e);
  }
  if (e.organization.empty() || e.patient.empty()) return;
  // Many patients in a short time: the organization's window of the last burstMinutes.
  Recent& r = recent_[e.organization];
  r.window.emplace_back(e.epochSeconds, e.patient);
  ++r.patients[e.patient];
  const std::int64_t span = static_cast<std::int64_t>(rules_.burstMinutes) * 60;
  while (!r.window.empty() && r.window.front().first <= e.epochSeconds - span) {
    auto it = r.patients.find(r.window.front().second);
    if (--it->second == 0) r.patients.erase(it);
    r.window.pop_front();
  }
  const std::size_t patients = r.patients.size();
  if (r.window.empty() || patients < static_cast<std::size_t>(rules_.burstPatients)) {
    if (r.open) {  // the burst is over: this request is not part of it
      bursts_.push_back(burstFinding(e.organization, *r.open));
      r.open.reset();
    }
    return;
  }
  if (!r.open) {
    // The burst starts with the window that reached the threshold: all its requests are part of it.
    Burst b;
    b.start = r.window.front().first;
    b.requests = static_cast<std::int64_t>(r.window.size()) - 1;  // this request is counted below
    for (const auto& [patient, _] : r.patients) b.patients.insert(patient);
    r.open = std::move(b);
  }
  r.open->end = e.epochSeconds;
  r.open->peak = std::max(r.open->peak, patients);
  ++r.open->requests;
  r.open->patients.insert(e.patient);
}

Finding ReportBuilder::burstFinding(const std::string& organization, const Burst& b) const {
  return Finding{"many-patients", organization, spokenTime(b.start),
                 std::to_string(b.patients.size()) + " different patients between " + spokenTime(b.start) + " and " +
                     spokenTime(b.end) + " (at most " + std::to_string(b.peak) + " within " +
                     std::to_string(rules_.burstMinutes) + " minutes; " +
                     plural(b.requests, "request", "requests") + ")"};
}

ReportData ReportBuilder::finish() const {
  ReportData d = data_;
  if (outcomeHours_.empty()) return d;
  std::int64_t firstHour = outcomeHours_.begin()->second.begin()->first, lastHour = firstHour;
  for (const auto& [_, hours] : outcomeHours_) {
    firstHour = std::min(firstHour, hours.begin()->first);
    lastHour = std::max(lastHour, hours.rbegin()->first);
  }
  // Hours for up to two days, days for up to about 13 months, months beyond.
  const std::int64_t firstDay = utc::floorDiv(firstHour, 24), lastDay = utc::floorDiv(lastHour, 24);
  enum { kHours, kDays, kMonths } unit = lastHour - firstHour < 48 ? kHours : lastDay - firstDay <= 400 ? kDays : kMonths;
  d.hourly = unit == kHours;
  auto monthIndex = [](std::int64_t day) {
    const utc::CivilDate c = utc::civilFromDays(day);
    return c.year * 12 + c.month - 1;
  };
  std::int64_t bucketBase = 0, buckets = 0;
  if (unit == kHours) {
    bucketBase = firstHour;
    buckets = lastHour - firstHour + 1;
    for (std::int64_t h = firstHour; h <= lastHour; ++h) {
      d.buckets.push_back(dayText(utc::floorDiv(h, 24)) + " " + two(static_cast<unsigned>(h - utc::floorDiv(h, 24) * 24)) + ":00");
    }
  } else if (unit == kDays) {
    bucketBase = firstDay;
    buckets = lastDay - firstDay + 1;
    for (std::int64_t day = firstDay; day <= lastDay; ++day) d.buckets.push_back(dayText(day));
  } else {
    bucketBase = monthIndex(firstDay);
    buckets = monthIndex(lastDay) - bucketBase + 1;
    for (std::int64_t m = bucketBase; m < bucketBase + buckets; ++m) {
      d.buckets.push_back(std::to_string(utc::floorDiv(m, 12)) + "-" + two(static_cast<unsigned>(m - utc::floorDiv(m, 12) * 12 + 1)));
    }
  }
  auto bucketOf = [&](std::int64_t hour) {
    if (unit == kHours) return hour - bucketBase;
    if (unit == kDays) return utc::floorDiv(hour, 24) - bucketBase;
    return monthIndex(utc::floorDiv(hour, 24)) - bucketBase;
  };
  auto series = [&](const std::map<std::int64_t, std::int64_t>& hours, std::vector<std::int64_t>& out) {
    if (out.empty()) out.assign(static_cast<std::size_t>(buckets), 0);
    for (const auto& [hour, n] : hours) out[static_cast<std::size_t>(bucketOf(hour))] += n;
  };
  for (const auto& [outcome, hours] : outcomeHours_) series(hours, d.byOutcome[outcome]);
  // The busiest organizations one by one, the others together.
  std::map<std::string, std::int64_t> volumes;
  for (const auto& [org, hours] : orgHours_) {
    for (const auto& [_, n] : hours) volumes[org] += n;
  }
  volumes.erase("");  // requests of no organization are always a series of their own
  const auto drawn = topOf(volumes, kChartSeries);
  std::set<std::string> shown;
  for (const auto& [org, _] : drawn) shown.insert(org);
  for (const auto& [org, hours] : orgHours_) {
    const std::string label = org.empty() ? kNoOrganization : shown.count(org) == 0 ? kOtherOrganizations : org;
    series(hours, d.byOrganization[label]);
  }
  d.topPatients = topOf(patientTotals_, rules_.top);
  d.topOrganizations = topOf(orgTotals_, rules_.top);

  // Volume jumps, day by day from each organization's first active day.
  for (const auto& [org, hours] : orgHours_) {
    if (org.empty()) continue;
    std::map<std::int64_t, std::int64_t> perDay;
    for (const auto& [hour, n] : hours) perDay[utc::floorDiv(hour, 24)] += n;
    // Only days with requests make the history: weekends and holidays without any would otherwise make
    // the median 0 and flag the next ordinary working day.
    std::vector<std::int64_t> previous;
    for (const auto& [day, n] : perDay) {
      if (previous.size() >= static_cast<std::size_t>(rules_.jumpHistoryDays) && n >= rules_.jumpMinimum) {
        const std::int64_t m = median(previous);
        if (n > rules_.jumpFactor * m) {
          d.findings.push_back(Finding{"volume-jump", org, dayText(day),
                                       plural(n, "request", "requests") + " on " + dayText(day) + ", more than " +
                                           std::to_string(rules_.jumpFactor) + " times the median of its " +
                                           std::to_string(previous.size()) + " previous days with requests (" +
                                           std::to_string(m) + ")"});
        }
      }
      previous.push_back(n);
    }
  }
  // Unusual hours of the day.
  for (const auto& [org, hours] : orgHours_) {
    if (org.empty()) continue;
    std::int64_t byHour[24] = {}, total = 0;
    for (const auto& [hour, n] : hours) {
      byHour[hour - utc::floorDiv(hour, 24) * 24] += n;
      total += n;
    }
    if (total < rules_.unusualHourMinimum) continue;
    const auto* busiest = std::max_element(std::begin(byHour), std::end(byHour));
    std::string when;
    std::int64_t unusual = 0;
    for (int h = 0; h < 24; ++h) {
      if (byHour[h] == 0 || byHour[h] * 100 >= *busiest * rules_.unusualHourPercent) continue;
      unusual += byHour[h];
      when += (when.empty() ? "" : ", ") + two(static_cast<unsigned>(h)) + ":00";
    }
    if (unusual == 0) continue;
    d.findings.push_back(Finding{"unusual-hours", org, when + " UTC",
                                 plural(unusual, "request", "requests") + " in the hours starting " + when +
                                     " UTC; its busiest hour, " + two(static_cast<unsigned>(busiest - byHour)) +
                                     ":00 UTC, had " + std::to_string(*busiest) + " of its " + std::to_string(total)});
  }
  d.findings.insert(d.findings.end(), bursts_.begin(), bursts_.end());
  for (const auto& [org, r] : recent_) {
    if (r.open) d.findings.push_back(burstFinding(org, *r.open));  // still under way at the period's end
  }
  return d;
}

std::string purposeInWords(const std::string& code) {
  static const std::map<std::string, std::string> kWords = {
      {"TREAT", "treatment"},
      {"ETREAT", "emergency treatment"},
      {"ERTREAT", "emergency room treatment"},
      {"CAREMGT", "care management"},
      {"HPAYMT", "payment"},
      {"CLMATTCH", "a claim attachment"},
      {"COVAUTH", "coverage authorization"},
      {"COVERAGE", "coverage under a policy or program"},
      {"ELIGDTRM", "determining eligibility"},
      {"ELIGVER", "verifying eligibility"},
      {"ENROLLM", "enrollment"},
      {"REMITADV", "remittance advice"},
      {"HOPERAT", "health care operations"},
      {"HACCRED", "accreditation"},
      {"HCOMPL", "compliance"},
      {"HDIRECT", "a directory"},
      {"HQUALIMP", "quality improvement"},
      {"BTG", "break-the-glass emergency access"},
      {"CLINTRCH", "clinical trial research"},
      {"CLINTRL", "a clinical trial"},
      {"POPHLTH", "population health"},
      {"HLEGAL", "legal reasons"},
      {"HMARKT", "marketing"},
      {"HSYSADMIN", "system administration"},
      {"PATADMIN", "patient administration"},
      {"RECORDMGT", "records management"},
      {"HRESCH", "research"},
      {"PATRQT", "your own request"},
      {"FAMRQT", "a request of your family"},
      {"PWATRNY", "a request of your power of attorney"},
      {"SUPNWK", "a request of your support network"},
      {"PUBHLTH", "public health"},
      {"DISASTER", "disaster response"},
      {"THREAT", "preventing a threat"},
      {"TRAIN", "training"},
      {"HTEST", "testing"},
      {"SYSDEV", "system development"},
      {"HPRGRP", "health program reporting"},
      {"LABELING", "labeling"},
      {"METAMGT", "metadata management"},
      {"DECEASED", "matters after death"},
      {"DONAT", "donation"},
      {"FRAUD", "fraud prevention"},
      {"GOV", "government purposes"},
      {"LAW", "law enforcement"},
      {"LEGAL", "legal proceedings"},
      {"MILITARY", "military purposes"},
      {"REFUSAL", "handling a refusal"},
      {"PERFORMANCE", "performance measurement"},
  };
  const auto it = kWords.find(code);
  return it == kWords.end() ? "" : it->second;
}

std::string disclosureSentence(const ReportEntry& e, const std::map<std::string, std::string>& names) {
  std::string who;
  const auto named = names.find(e.organization);
  if (named != names.end() && !named->second.empty()) {
    who = named->second + " (" + e.organization + ")";
  } else {
    who = "the organization " + e.organization;
  }
  std::string what;
  const std::string type = e.resourceType.empty() ? "health" : e.resourceType;
  if (e.action == "read") {
    what = e.resourceType == "Patient" ? "read your patient record (your name, identifiers and contact details)"
                                       : "read your " + type + " record " + e.resourceId;
  } else {
    what = "searched your " + type + " records and received " + plural(e.resultCount, "record", "records");
  }
  std::string why;
  const std::string words = purposeInWords(e.purpose);
  if (e.purpose.empty()) why = " without stating a purpose";
  else if (!words.empty()) why = " for " + words;
  else why = " for a purpose given as \"" + e.purpose + "\"";
  std::string sentence = "On " + spokenTime(e.epochSeconds) + ", " + who + " " + what + why + ".";
  if (e.breakGlass) {
    sentence += " This was emergency (break-glass) access: your consent choices did not allow this organization to "
                "see these records, and the node let the emergency request through because its rules allow that in an "
                "emergency, and recorded it for review.";
  }
  return sentence;
}

std::string htmlEscape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace hie::audit

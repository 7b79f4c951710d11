// The HTML page of the audit report (renderReportHtml, audit_report.h): one
// document with inline CSS and SVG, no script, no external reference. Every
// value from the trail, the registry or the command line goes through esc().
#include <algorithm>
#include <cmath>
#include <sstream>

#include "audit/audit_report.h"
#include "common/purpose_of_use.h"

namespace hie::audit {
namespace {

std::string esc(const std::string& s) { return htmlEscape(s); }

const char* const kStyle = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:2em auto;max-width:62em;padding:0 1em;color:#1b1b1b;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ccc;padding-bottom:.2em}
.meta{color:#555;margin-top:0}
.verdict{padding:.8em 1em;border-radius:6px;margin:1em 0}
.verdict.ok{background:#e8f5e9;border:2px solid #2e7d32}
.verdict.failed{background:#ffebee;border:4px solid #b71c1c;color:#7f0000}
.verdict.failed h2{color:#b71c1c;font-size:1.5em;border:none;margin-top:0}
.verdict.ok h2{border:none;margin-top:0;color:#1b5e20}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
td{overflow-wrap:anywhere}
th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.denied td{background:#ffebee}tr.glass td{background:#fff3e0}
.legend span{display:inline-block;margin-right:1.2em}.legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:middle}
.finding{background:#fff8e1;border-left:4px solid #f9a825;padding:.4em .8em;margin:.4em 0}
.note{color:#555;font-size:.92em}
.warn{background:#fff4e5;border-left:4px solid #e65100;padding:.4em .7em}
code{font-size:.92em;word-break:break-all}
li.disclosure{margin:.5em 0}
.tag{font-size:.8em;background:#eceff1;border-radius:3px;padding:0 .3em;color:#37474f}
svg text{font-family:inherit}
@media print{.verdict{break-inside:avoid}}
)";

const char* const kPalette[] = {"#1565c0", "#ef6c00", "#6a1b9a", "#00838f", "#ad1457",
                                "#558b2f", "#4e342e", "#283593", "#9e9d24", "#757575"};

std::string outcomeColor(const std::string& outcome) {
  if (outcome == "success") return "#2e7d32";
  if (outcome == "denied") return "#c62828";
  if (outcome == "error") return "#ef6c00";
  return "#757575";
}

std::string organizationLabel(const std::string& id, const std::map<std::string, std::string>& names) {
  const auto it = names.find(id);
  if (it == names.end() || it->second.empty()) return id;
  return it->second + " (" + id + ")";
}

struct Series {
  std::string label;
  std::string color;
  std::vector<std::int64_t> counts;
};

std::string num(double v) {
  std::ostringstream o;
  o.precision(1);
  o << std::fixed << v;
  return o.str();
}

// A stacked bar chart with axis labels, a legend and the numbers as a table under it.
std::string stackedBars(const std::string& title, const std::vector<std::string>& buckets,
                        const std::vector<Series>& series) {
  const double width = 760, height = 260, left = 48, right = 12, top = 16, bottom = 56;
  const double plotW = width - left - right, plotH = height - top - bottom;
  std::int64_t maxTotal = 1;
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    std::int64_t total = 0;
    for (const auto& s : series) total += s.counts[b];
    maxTotal = std::max(maxTotal, total);
  }
  const double slot = plotW / static_cast<double>(std::max<std::size_t>(buckets.size(), 1));
  const double bar = std::min(slot > 4 ? slot * 0.8 : slot, 48.0);
  std::ostringstream o;
  o << "<figure><svg role=\"img\" width=\"" << width << "\" height=\"" << height
    << "\" viewBox=\"0 0 " << width << " " << height << "\" aria-label=\"" << esc(title) << "\"><title>" << esc(title)
    << "</title>";
  // Gridlines and the count axis: 0, half and the maximum.
  for (int i = 0; i <= 2; ++i) {
    const std::int64_t value = maxTotal * i / 2;
    const double y = top + plotH - plotH * static_cast<double>(value) / static_cast<double>(maxTotal);
    o << "<line x1=\"" << left << "\" x2=\"" << (width - right) << "\" y1=\"" << num(y) << "\" y2=\"" << num(y)
      << "\" stroke=\"#ddd\"/><text x=\"" << (left - 4) << "\" y=\"" << num(y + 4)
      << "\" font-size=\"11\" text-anchor=\"end\">" << value << "</text>";
  }
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    double y = top + plotH;
    const double x = left + slot * static_cast<double>(b) + (slot - bar) / 2;
    for (const auto& s : series) {
      const std::int64_t n = s.counts[b];
      if (n == 0) continue;
      const double h = plotH * static_cast<double>(n) / static_cast<double>(maxTotal);
      y -= h;
      o << "<rect x=\"" << num(x) << "\" y=\"" << num(y) << "\" width=\"" << num(bar) << "\" height=\"" << num(h)
        << "\" fill=\"" << s.color << "\"><title>" << esc(buckets[b] + ": " + s.label + ": " + std::to_string(n))
        << "</title></rect>";
    }
  }
  // Time labels: at most about ten, rotated so that they do not overlap.
  const std::size_t every = std::max<std::size_t>(1, (buckets.size() + 9) / 10);
  for (std::size_t b = 0; b < buckets.size(); b += every) {
    const double x = left + slot * (static_cast<double>(b) + 0.5);
    o << "<text font-size=\"10\" text-anchor=\"end\" transform=\"translate(" << num(x) << "," << num(top + plotH + 12)
      << ") rotate(-30)\">" << esc(buckets[b]) << "</text>";
  }
  o << "<line x1=\"" << left << "\" x2=\"" << (width - right) << "\" y1=\"" << (top + plotH) << "\" y2=\""
    << (top + plotH) << "\" stroke=\"#555\"/></svg>";
  o << "<figcaption><div class=\"legend\">";
  for (const auto& s : series) {
    o << "<span><i style=\"background:" << s.color << "\"></i>" << esc(s.label) << "</span>";
  }
  o << "</div></figcaption></figure>";
  // The numbers, in the page (for screen readers, copy and paste, and checks).
  o << "<details><summary>" << esc(title) << ": the numbers</summary><table><tr><th>period (UTC)</th>";
  for (const auto& s : series) o << "<th>" << esc(s.label) << "</th>";
  o << "<th>total</th></tr>";
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    std::int64_t total = 0;
    o << "<tr><td>" << esc(buckets[b]) << "</td>";
    for (const auto& s : series) {
      o << "<td class=\"n\">" << s.counts[b] << "</td>";
      total += s.counts[b];
    }
    o << "<td class=\"n\">" << total << "</td></tr>";
  }
  o << "</table></details>";
  return o.str();
}

// Rows the checks did not cover are left out of the page; it says how many.
void unverifiedNote(std::ostringstream& o, std::int64_t unverified) {
  if (unverified == 0) return;
  o << "<p class=\"warn\"><strong>" << unverified << (unverified == 1 ? " entry" : " entries")
    << " of the selected trail " << (unverified == 1 ? "was" : "were")
    << " not covered by this verification</strong> (stored after it ran, not signed, or in a log that is not "
       "verified) and " << (unverified == 1 ? "is" : "are") << " left out of every count and list below.</p>";
}

void verification(std::ostringstream& o, const VerificationSummary& v, std::int64_t unverified) {
  if (!v.verified()) {
    o << "<section class=\"verdict failed\" id=\"verification\"><h2>AUDIT TRAIL VERIFICATION FAILED</h2><p><strong>"
      << v.problems.size() << (v.problems.size() == 1 ? " problem" : " problems") << " in " << v.placesWithProblems
      << (v.placesWithProblems == 1 ? " log or chain" : " logs or chains")
      << ".</strong> The trail below may have been altered or damaged: do not rely on its counts until the cause is "
         "found (run <code>hie-node audit verify</code>).</p><p>"
      << esc(v.checkedText()) << "</p><ul>";
    const std::size_t shown = std::min<std::size_t>(v.problems.size(), 100);
    for (std::size_t i = 0; i < shown; ++i) o << "<li><code>" << esc(v.problems[i]) << "</code></li>";
    if (shown < v.problems.size()) o << "<li>… and " << (v.problems.size() - shown) << " more</li>";
    o << "</ul>";
    unverifiedNote(o, unverified);
    o << "</section>";
    return;
  }
  o << "<section class=\"verdict ok\" id=\"verification\"><h2>Audit trail verified</h2><p>" << esc(v.checkedText());
  if (v.checkpoints == 0 && v.v1Entries == 0) {
    o << ": the trail is empty; nothing is signed yet.</p><ul>";
  } else {
    o << ": " << (v.leaves > 0 || v.checkpoints > 0 ? "leaf hashes, tree, checkpoint signatures" : "")
      << (v.witnessKeys > 0 && v.checkpoints > 0 ? ", cosignatures" : "")
      << (v.v1Entries > 0 ? std::string(v.leaves > 0 || v.checkpoints > 0 ? " and " : "") +
                                "v1 hashes, links, signatures and columns"
                          : "")
      << " intact.</p><ul>";
  }
  for (const auto& log : v.logs) {
    o << "<li>log <code>" << esc(log.origin) << "</code>: " << log.leaves << " leaves; ";
    if (log.newestCheckpoint > 0) {
      o << "newest signed checkpoint covers " << log.newestCheckpoint << " leaves; ";
    } else {
      o << "no signed checkpoint yet; ";
    }
    if (log.witnessedSize > 0) {
      o << "newest checkpoint cosigned by " << log.witnesses
        << (log.witnesses == 1 ? " known witness" : " known witnesses") << " covers " << log.witnessedSize
        << " leaves";
    } else {
      o << "no checkpoint cosigned by a known witness (" << v.witnessKeys
        << (v.witnessKeys == 1 ? " witness key" : " witness keys") << " known)";
    }
    o << "</li>";
  }
  if (v.chains > 0) o << "<li>v1 chains: " << v.v1Entries << " entries in " << v.chains << " chains</li>";
  o << "</ul>";
  unverifiedNote(o, unverified);
  o << "</section>";
}

void eventTable(std::ostringstream& o, const std::vector<ReportEntry>& rows, std::int64_t total, const char* rowClass,
                const std::map<std::string, std::string>& names, bool glass) {
  if (total == 0) {
    o << "<p>None in this period.</p>";
    return;
  }
  o << "<table><tr><th>time (UTC)</th><th>organization</th><th>patient</th><th>request</th><th>purpose</th><th>"
    << (glass ? "what happened" : "reason") << "</th><th>request id</th></tr>";
  for (const auto& e : rows) {
    const std::string org = e.organization.empty() ? "(none admitted; certificate " + e.subjectDn + ")"
                                                   : organizationLabel(e.organization, names);
    const std::string words = purposeInWords(e.purpose);
    const std::string purpose = words.empty() ? e.purpose : e.purpose + " (" + words + ")";
    const std::string reason =
        glass ? "returned data although the patient's consent choices did not allow this organization" : e.outcomeReason;
    o << "<tr class=\"" << rowClass << "\"><td>" << esc(e.time) << "</td><td>" << esc(org) << "</td><td>"
      << esc(e.patient) << "</td><td>" << esc(e.action + " " + e.path) << "</td><td>" << esc(purpose) << "</td><td>"
      << esc(reason) << "</td><td><code>" << esc(e.requestId) << "</code></td></tr>";
  }
  o << "</table>";
  if (static_cast<std::int64_t>(rows.size()) < total) {
    o << "<p class=\"note\">The first " << rows.size() << " of " << total << " are listed.</p>";
  }
}

void rules(std::ostringstream& o, const ReportRules& r) {
  o << "<p>Each pattern has a fixed rule; a finding is a reason to look, not proof of misuse.</p><ul id=\"rules\">"
    << "<li><strong>volume-jump</strong>: an organization's requests on one UTC day exceed " << r.jumpFactor
    << " times the median of its previous days with requests in the period (days without any, such as weekends, "
       "are left out), with at least "
    << r.jumpHistoryDays << " such days and at least " << r.jumpMinimum << " requests that day.</li>"
    << "<li><strong>unusual-hours</strong>: requests in an hour of the day (UTC) in which the organization made fewer "
       "than "
    << r.unusualHourPercent << "% as many requests as in its busiest hour of the day over the period; judged for "
       "organizations with at least "
    << r.unusualHourMinimum << " requests in the period.</li>"
    << "<li><strong>many-patients</strong>: an organization's requests concern at least " << r.burstPatients
    << " different patients within " << r.burstMinutes
    << " minutes; one finding per burst, from the first such window until the organization's window holds fewer "
       "again, with all its different patients.</li></ul>";
}

// A --from/--to as the instant it selects (UTC, inclusive), with the text given when that differs.
std::string periodBound(const std::string& given, TimeBound kind) {
  auto bound = auditTimeBound(given, kind);
  if (!bound) return esc(given);
  return esc(*bound) + (*bound == given ? "" : " (given as " + esc(given) + ")");
}

void accounting(std::ostringstream& o, const ReportPage& p) {
  o << "<section id=\"accounting\"><h2>Accounting of disclosures for patient " << esc(p.patient) << "</h2>"
    << "<p>Every time an organization (this node's own systems included) read or searched this patient's records "
       "through this node and received them, the node wrote a signed entry in its audit trail. These are those entries, oldest first"
    << (p.from.empty() && p.to.empty() ? "" : ", within the period above") << ". Refused requests are listed under "
       "“Denied requests” below (no data was given out for them).</p>";
  if (p.hipaa) {
    o << "<p><strong>HIPAA form (45 CFR §164.528):</strong> disclosures for treatment, payment and health care "
         "operations are left out, and only the last six years count.</p>";
  }
  if (p.disclosuresTotal == 0) {
    o << "<p><strong>No disclosures of this patient's records are recorded in this period.</strong></p>";
  } else {
    o << "<p><strong>" << p.disclosuresTotal << (p.disclosuresTotal == 1 ? " disclosure" : " disclosures")
      << ".</strong></p><ol>";
    for (const auto& e : p.disclosures) {
      o << "<li class=\"disclosure\">" << esc(disclosureSentence(e, p.organizationNames));
      if (purpose::isTreatmentPaymentOrOperations(e.purpose)) {
        o << " <span class=\"tag\">treatment, payment or operations: not in a HIPAA §164.528 accounting</span>";
      }
      o << " <span class=\"tag\">request " << esc(e.requestId) << "</span></li>";
    }
    o << "</ol>";
    if (static_cast<std::int64_t>(p.disclosures.size()) < p.disclosuresTotal) {
      o << "<p class=\"note\">The first " << p.disclosures.size() << " of " << p.disclosuresTotal
        << " are listed; narrow the period with --from and --to for the rest.</p>";
    }
  }
  o << "<p class=\"note\">Disclosures for treatment, payment or health care operations are marked: a HIPAA accounting "
       "(45 CFR §164.528) may leave them out; the European Health Data Space gives the right to see every access. "
       "Each line names the request id under which the node recorded it.</p></section>";
}

}  // namespace

std::string renderReportHtml(const ReportPage& p) {
  const ReportData& d = p.data;
  const auto& names = p.organizationNames;
  std::ostringstream o;
  o << "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    << "<title>hie-node audit report" << (p.patient.empty() ? "" : " for patient " + esc(p.patient))
    << "</title><style>" << kStyle << "</style></head><body>";
  o << "<h1>Audit report" << (p.patient.empty() ? "" : ": patient " + esc(p.patient)) << "</h1><p class=\"meta\">"
    << "Node <code>" << esc(p.node) << "</code> · generated " << esc(p.generatedAt) << " · period "
    << (p.from.empty() ? "from the first entry" : "from " + periodBound(p.from, TimeBound::kFrom)) << " "
    << (p.to.empty() ? "to the last entry" : "to " + periodBound(p.to, TimeBound::kTo)) << " · " << d.requests
    << (d.requests == 1 ? " request" : " requests") << (p.patient.empty() ? "" : " concerning this patient");
  if (!d.first.empty()) o << ", " << esc(d.first) << " to " << esc(d.last);
  o << "</p>";
  verification(o, p.verification, p.unverified);
  if (d.unreadable > 0) {
    o << "<section class=\"verdict failed\"><p><strong>" << d.unreadable
      << " entries could not be read</strong> and are not counted below: ";
    for (const auto& n : d.unreadableNames) o << "<code>" << esc(n) << "</code> ";
    o << "</p></section>";
  }
  if (!p.patient.empty()) accounting(o, p);

  o << "<section id=\"activity\"><h2>Requests over time</h2><p class=\"note\">Requests this node received (and "
       "refused TLS handshakes), per UTC "
    << (d.hourly ? "hour" : d.buckets.size() > 0 && d.buckets[0].size() == 7 ? "month" : "day")
    << "; calls this node made to its peers are not counted.</p>";
  if (d.requests == 0) {
    o << "<p>No requests in this period.</p>";
  } else {
    std::vector<Series> orgs;
    std::size_t color = 0;
    for (const auto& [org, counts] : d.byOrganization) {
      // Requests of no admitted organization are light grey, the rest taken together dark grey.
      const bool none = org.empty() || org == "(no organization)";
      const bool others = !none && org.front() == '(';
      orgs.push_back(Series{org.empty() ? "(no organization)" : organizationLabel(org, names),
                            none     ? "#bdbdbd"
                            : others ? "#616161"
                                     : kPalette[color++ % (sizeof kPalette / sizeof kPalette[0])],
                            counts});
    }
    o << "<h3>By organization</h3>" << stackedBars("Requests by organization", d.buckets, orgs);
    std::vector<Series> outcomes;
    for (const char* known : {"success", "denied", "error"}) {
      const auto it = d.byOutcome.find(known);
      if (it != d.byOutcome.end()) outcomes.push_back(Series{known, outcomeColor(known), it->second});
    }
    for (const auto& [outcome, counts] : d.byOutcome) {
      if (outcome != "success" && outcome != "denied" && outcome != "error") {
        outcomes.push_back(Series{outcome.empty() ? "(none)" : outcome, outcomeColor(outcome), counts});
      }
    }
    o << "<h3>By outcome</h3>" << stackedBars("Requests by outcome", d.buckets, outcomes);
  }
  o << "</section>";

  o << "<section id=\"denied\"><h2>Denied requests (" << d.deniedTotal << ")</h2>";
  eventTable(o, d.denied, d.deniedTotal, "denied", names, false);
  o << "</section><section id=\"break-glass\"><h2>Break-glass access (" << d.breakGlassTotal << ")</h2>"
    << "<p class=\"note\">Emergency requests (ETREAT) that returned data of a patient whose consent choices did not allow "
       "the organization, "
       "because the node allows break-glass (policy.breakGlass).</p>";
  eventTable(o, d.breakGlass, d.breakGlassTotal, "glass", names, true);
  o << "</section>";

  o << "<section id=\"top\"><h2>Top organizations" << (p.patient.empty() ? " and patients" : "") << "</h2>";
  if (d.topOrganizations.empty()) o << "<p>No admitted organization made a request in this period.</p>";
  else {
    o << "<table><tr><th>organization</th><th>requests</th></tr>";
    for (const auto& [org, n] : d.topOrganizations) {
      o << "<tr><td>" << esc(organizationLabel(org, names)) << "</td><td class=\"n\">" << n << "</td></tr>";
    }
    o << "</table>";
  }
  if (p.patient.empty()) {
    if (d.topPatients.empty()) o << "<p>No request concerned a patient in this period.</p>";
    else {
      o << "<table><tr><th>patient</th><th>requests</th></tr>";
      for (const auto& [patient, n] : d.topPatients) {
        o << "<tr><td>" << esc(patient) << "</td><td class=\"n\">" << n << "</td></tr>";
      }
      o << "</table>";
    }
  }
  o << "</section>";

  if (p.patient.empty()) {
    o << "<section id=\"findings\"><h2>Unusual patterns (" << d.findings.size() << ")</h2>";
    rules(o, p.rules);
    if (d.findings.empty()) o << "<p><strong>No unusual patterns found by these rules.</strong></p>";
    for (const auto& f : d.findings) {
      o << "<div class=\"finding\"><strong>" << esc(f.rule) << "</strong>: " << esc(organizationLabel(f.organization, names))
        << ": " << esc(f.detail) << "</div>";
    }
    o << "</section>";
  }
  o << "<p class=\"note\">Everything above is read from the signed entries of the audit trail (docs/audit-format.md); "
       "strings are shown as entries store them (bytes outside printable ASCII, and %, as %XX).</p></body></html>\n";
  return o.str();
}

}  // namespace hie::audit

// The audit report for people (`hie-node audit report --html`): the analysis of a
// run of the trail (counts over time, denied and break-glass events, top patients
// and organizations, unusual patterns with stated rules) and one self-contained
// HTML page rendering it with the verification result and, for one patient, the
// accounting of disclosures in plain language. Pure: no I/O, no database; every
// value read from entries comes from their signed text (TrailEntry::text).
#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "audit/audit_query.h"
#include "common/result.h"

namespace hie::audit {

// The fields of one signed entry (either format) the report uses, as stored (strings encoded
// by printableAscii); epochSeconds is `time` in whole seconds since 1970.
struct ReportEntry {
  std::string name;  // TrailEntry::name()
  std::string time, eventType, action, outcome, outcomeReason, organization, patient, resourceType, resourceId,
      entities, purpose, path, requestId, subjectDn, remoteAddress;
  bool breakGlass = false;
  std::int64_t httpStatus = 0, resultCount = 0;
  std::int64_t epochSeconds = 0;
};

// kInvalidInput when text is not a JSON object with a well-formed `time` (a damaged entry).
Result<ReportEntry> reportEntry(const TrailEntry& entry);

// What `hie-node audit verify` found, for the report (filled by app/, which runs the checks).
struct VerificationSummary {
  struct Log {
    std::string origin;
    std::uint64_t leaves = 0;
    std::uint64_t newestCheckpoint = 0;  // size of the newest stored checkpoint; 0: none
    std::uint64_t signedLeaves = 0;      // leaves 0..signedLeaves-1 match a checkpoint signed with the log's key
    std::uint64_t witnessedSize = 0;     // newest checkpoint cosigned by known witnesses (0: none)
    std::size_t witnesses = 0;           // how many cosigned it
  };
  std::vector<std::string> problems;  // one line each, as audit verify prints them
  std::size_t placesWithProblems = 0;  // logs or chains
  std::uint64_t leaves = 0;
  std::int64_t v1Entries = 0;
  std::size_t chains = 0, checkpoints = 0, witnessKeys = 0;
  std::vector<Log> logs;
  // What the checks covered, for the report to show nothing else: per log origin, how many leaves
  // (from index 0) a verified signed checkpoint covers; per v1 chain, the highest seq checked.
  std::map<std::string, std::uint64_t> verifiedLeaves;
  std::map<std::string, std::int64_t> verifiedSeqs;
  bool verified() const { return problems.empty(); }
  // True when the checks covered entry: a leaf below its log's verifiedLeaves, a v1 entry at or below
  // its chain's verifiedSeqs. Rows stored after the checks, unsigned or in no verified log are not.
  bool covers(const TrailEntry& entry) const;
  // "checked 3 leaves in 1 log and 0 v1 entries in 0 chains, 2 checkpoints"
  std::string checkedText() const;
};

// The rules of the unusual patterns, with their thresholds (printed in the page).
struct ReportRules {
  // Volume jump: an organization's requests on one UTC day exceed jumpFactor times the median of
  // its previous days with requests in the period (days without any, such as weekends, are left
  // out), it has at least jumpHistoryDays such days, and the day has at least jumpMinimum.
  int jumpFactor = 3;
  int jumpMinimum = 20;
  int jumpHistoryDays = 3;
  // Unusual hours: an hour of the day (UTC) in which an organization made fewer than
  // unusualHourPercent % as many requests as in its busiest hour of the day; judged for
  // organizations with at least unusualHourMinimum requests in the period.
  int unusualHourPercent = 10;
  int unusualHourMinimum = 50;
  // Many patients: an organization's requests concern at least burstPatients different patients
  // within burstMinutes minutes. One finding per burst: from the first window that reaches the
  // threshold until the window falls below it, with its different patients in all, the most in one
  // window and its requests; a later crossing is a new burst.
  int burstPatients = 20;
  int burstMinutes = 10;
  std::size_t listLimit = 200;  // denied, break-glass and disclosure rows listed (all are counted)
  std::size_t top = 10;         // top patients and organizations
};

struct Finding {
  std::string rule;          // "volume-jump", "unusual-hours", "many-patients"
  std::string organization;  // as stored
  std::string when;          // a UTC day, hours, or the window's start
  std::string detail;        // the numbers, in words
};

struct ReportData {
  std::int64_t requests = 0;    // entries counted (outbound peer calls are not)
  std::int64_t unreadable = 0;  // entries whose text could not be read
  std::vector<std::string> unreadableNames;
  std::string first, last;  // times of the first and last counted entry
  bool hourly = false;       // buckets are UTC hours (a period up to 48 hours) or UTC days
  std::vector<std::string> buckets;
  std::map<std::string, std::vector<std::int64_t>> byOrganization;  // per bucket; "" = no organization
  std::map<std::string, std::vector<std::int64_t>> byOutcome;
  std::vector<ReportEntry> denied, breakGlass;  // up to listLimit each
  std::int64_t deniedTotal = 0, breakGlassTotal = 0;
  std::vector<std::pair<std::string, std::int64_t>> topPatients, topOrganizations;
  std::vector<Finding> findings;
};

// Fed the entries in trail order (oldest first), keeps counts, not entries (lists are capped).
class ReportBuilder {
 public:
  explicit ReportBuilder(ReportRules rules = {});
  void add(const TrailEntry& entry);
  void add(const ReportEntry& entry);
  ReportData finish() const;

 private:
  ReportRules rules_;
  ReportData data_;
  std::map<std::string, std::map<std::int64_t, std::int64_t>> orgHours_;  // org -> epoch hour -> count
  std::map<std::string, std::int64_t> orgTotals_, patientTotals_;
  std::map<std::string, std::map<std::int64_t, std::int64_t>> outcomeHours_;
  // A burst: from the moment an organization's window first holds burstPatients different
  // patients until it holds fewer again; reported once, with its whole extent.
  struct Burst {
    std::int64_t start = 0, end = 0;  // the first request of the window that crossed; the last request
    std::size_t peak = 0;              // the most different patients in one window
    std::int64_t requests = 0;
    std::set<std::string> patients;    // every patient of the burst (only while it lasts)
  };
  struct Recent {
    std::deque<std::pair<std::int64_t, std::string>> window;  // (time, patient) within burstMinutes
    std::map<std::string, std::int64_t> patients;              // the window's patients, with their requests
    std::optional<Burst> open;                                 // the burst under way
  };
  Finding burstFinding(const std::string& organization, const Burst& b) const;
  std::map<std::string, Recent> recent_;
  std::vector<Finding> bursts_;
};

// HL7 v3 PurposeOfUse code in words ("TREAT" -> "treatment"); "" for an unknown code.
std::string purposeInWords(const std::string& code);
// One disclosure in plain language for the patient, with the organization's registry name
// when known: "On 2 Dec 2026 at 14:03 UTC, Lakeside Clinic (urn:oid:...) read your ...".
std::string disclosureSentence(const ReportEntry& entry, const std::map<std::string, std::string>& organizationNames);

struct ReportPage {
  std::string generatedAt, node;
  std::string from, to;  // as given ("" = open)
  std::string patient;   // the FHIR id of --patient, "" for the whole trail
  bool hipaa = false;    // the accounting in HIPAA's form (no TPO, six years: AuditFilter::hipaaAccounting)
  VerificationSummary verification;
  ReportData data;
  ReportRules rules;
  std::map<std::string, std::string> organizationNames;  // identifier -> registry name
  std::vector<ReportEntry> disclosures;  // with patient: the /audit/disclosures selection, capped
  std::int64_t disclosuresTotal = 0;
  // Entries in the trail the verification did not cover (stored after it ran, unsigned, or in a log
  // that failed): left out of every count and list (VerificationSummary::covers).
  std::int64_t unverified = 0;
};

// The whole page: one HTML document, inline CSS and SVG, no script, no external reference.
// Every value is escaped.
std::string renderReportHtml(const ReportPage& page);
// & < > " ' as character references.
std::string htmlEscape(const std::string& text);

}  // namespace hie::audit

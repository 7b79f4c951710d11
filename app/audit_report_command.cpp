// audit report --html FILE: verification, analysis (audit/audit_report.h) and one HTML file,
// written to a temporary file beside FILE and renamed over it only when complete.
#include "app/audit_report_command.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <vector>

#include "app/audit_verify.h"
#include "app/commands.h"
#include "audit/audit_query.h"
#include "audit/audit_report.h"
#include "audit/postgres_audit_reader.h"
#include "auth/registry/registry_repository.h"
#include "common/time.h"
#include "db/connection_pool.h"
#include "exchange/fhir/fhir_request.h"

namespace hie::app {
namespace {

const char* const kUsage =
    "usage: hie-node audit report --html FILE [--from T] [--to T] [--patient ID [--hipaa]] [--public-key FILE] "
    "[--checkpoint FILE]... [--witnesses K] [--witness-key VKEY]...";

// A patient's accounting lists at most this many disclosures (all are counted).
constexpr std::size_t kDisclosureLimit = 5000;

// Writes content to a new file beside path, then renames it over path: a reader never sees half a report.
Result<bool> writeAtomically(const std::string& path, const std::string& content) {
  std::string temp = path + ".XXXXXX";
  std::vector<char> name(temp.begin(), temp.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0) return fail(ErrorCode::kUnavailable, "cannot create a file beside " + path + ": " + std::strerror(errno));
  temp = name.data();
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  // mkstemp makes 0600: a report holds patient identifiers; the operator widens it when sharing.
  const bool ok = done == content.size() && ::fsync(fd) == 0;
  const int closed = ::close(fd);
  if (!ok || closed != 0 || ::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(temp.c_str());
    return fail(ErrorCode::kUnavailable, "cannot write " + path + ": " + why);
  }
  return true;
}

}  // namespace

OptionSpec auditReportOptions() {
  OptionSpec spec{{"html", "from", "to", "patient"}, {}, {"hipaa"}};
  addVerifyOptions(spec);
  return spec;
}

namespace {

struct ReportRequest {
  std::string file, from, to, patient;
  bool hipaa = false;
};

// The options, checked before anything is read or written; kInvalidInput says what is wrong.
Result<ReportRequest> reportRequest(const ParsedArgs& args) {
  ReportRequest r;
  if (!args.positional.empty()) {
    return fail(ErrorCode::kInvalidInput, std::string("audit report takes no arguments besides its options\n") + kUsage);
  }
  if (!args.has("html") || args.value("html").empty()) {
    return fail(ErrorCode::kInvalidInput, std::string("audit report needs --html FILE\n") + kUsage);
  }
  r.file = args.value("html");
  struct stat st {};
  if (::stat(r.file.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return fail(ErrorCode::kInvalidInput, "--html names a directory: " + r.file);
  }
  r.from = args.value("from");
  r.to = args.value("to");
  std::string fromBound, toBound;
  for (const char* name : {"from", "to"}) {
    if (!args.has(name)) continue;
    const bool isTo = std::string(name) == "to";
    const std::string& text = isTo ? r.to : r.from;
    if (!audit::isAuditTime(text)) {
      return fail(ErrorCode::kInvalidInput, "--from and --to must be YYYY-MM-DD or an RFC 3339 date-time");
    }
    auto bound = audit::auditTimeBound(text, isTo ? audit::TimeBound::kTo : audit::TimeBound::kFrom);
    if (!bound) {
      return fail(ErrorCode::kInvalidInput,
                  "--from and --to must name a date and time that exist, within the years 0001-9999 in UTC");
    }
    (isTo ? toBound : fromBound) = *bound;
  }
  if (!fromBound.empty() && !toBound.empty() && fromBound > toBound) {
    return fail(ErrorCode::kInvalidInput, "--from is after --to");
  }
  if (args.has("patient")) {
    r.patient = args.value("patient");
    if (r.patient.compare(0, 8, "Patient/") == 0) r.patient = r.patient.substr(8);
    if (!exchange::isValidFhirId(r.patient)) return fail(ErrorCode::kInvalidInput, "--patient must be a FHIR id (or Patient/ID)");
  }
  r.hipaa = args.has("hipaa");
  if (r.hipaa && r.patient.empty()) return fail(ErrorCode::kInvalidInput, "--hipaa applies to --patient's accounting");
  return r;
}

}  // namespace

int checkAuditReportUsage(const ParsedArgs& args) {
  auto request = reportRequest(args);
  return request ? 0 : usageError(request.error().internal);
}

int runAuditReport(const ParsedArgs& args, const ConfigSource& config, const std::string& uri) {
  auto request = reportRequest(args);
  if (!request) return usageError(request.error().internal);
  const std::string &file = request->file, &from = request->from, &to = request->to, &patient = request->patient;

  // The output's directory before the long work: a report that cannot be written is said at once.
  const std::string::size_type slash = file.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : file.substr(0, slash);
  struct stat dirStat {};
  if (::stat(dir.c_str(), &dirStat) != 0 || !S_ISDIR(dirStat.st_mode)) {
    return runtimeError("cannot write the report: the directory " + dir + " does not exist");
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return runtimeError("cannot write the report: the directory " + dir + " is not writable: " + std::strerror(errno));
  }

  auto verification = verifyAuditTrail(args, config, uri);
  if (!verification) {
    return verification.error().code == ErrorCode::kInvalidInput ? usageError(verification.error().internal)
                                                                 : runtimeError(verification.error().internal);
  }
  audit::ReportPage page;
  page.verification = std::move(*verification);
  page.generatedAt = utc::nowMillis();
  page.node = config.get("node.id").value_or("");
  page.from = from;
  page.to = to;
  page.patient = patient;
  page.hipaa = request->hipaa;

  auth::RegistryRepository registry(uri);
  auto organizations = registry.loadAll();
  if (!organizations) return runtimeError("cannot read the organization registry: " + organizations.error().internal);
  for (const auto& org : organizations->organizations) page.organizationNames[org.identifier] = org.name;

  db::ConnectionPool pool(uri, 1);
  audit::PgAuditReader reader(pool);
  audit::AuditFilter filter;
  filter.from = from;
  filter.to = to;
  if (!patient.empty()) filter.patient = "Patient/" + patient;
  audit::ReportBuilder builder(page.rules);
  // Only what verification covered: a row stored after it, or one no signature covers, is counted
  // apart and left out, so that the page shows nothing it did not verify.
  auto read = reader.forEach(filter, [&builder, &page](const audit::TrailEntry& e) {
    if (!page.verification.covers(e)) {
      ++page.unverified;
      return true;
    }
    builder.add(e);
    return true;
  });
  if (!read) return runtimeError("cannot read the audit trail: " + read.error().internal);
  page.data = builder.finish();
  if (!patient.empty()) {
    // The selection of GET /audit/disclosures (exchange/handlers/audit_api.cpp): successful reads and
    // searches of this patient's data, all purposes (the page marks those a HIPAA accounting leaves out),
    // or with --hipaa the form of ?hipaa=true.
    filter.disclosuresOnly = true;
    filter.hipaaAccounting = request->hipaa;
    auto disclosed = reader.forEach(filter, [&page](const audit::TrailEntry& e) {
      if (!page.verification.covers(e)) return true;  // counted in page.unverified above
      ++page.disclosuresTotal;
      if (page.disclosures.size() < kDisclosureLimit) {
        if (auto entry = audit::reportEntry(e)) page.disclosures.push_back(*entry);
      }
      return true;
    });
    if (!disclosed) return runtimeError("cannot read the audit trail: " + disclosed.error().internal);
  }

  if (auto written = writeAtomically(file, audit::renderReportHtml(page)); !written) {
    return runtimeError(written.error().internal);
  }
  if (!page.verification.verified()) {
    for (const auto& line : page.verification.problems) std::cerr << "hie-node: audit: " << line << "\n";
    std::cerr << "hie-node: audit verification FAILED (" << page.verification.problems.size()
              << " problems); wrote the report, which says so at its top, to " << file << "\n";
    return 1;
  }
  std::cerr << "wrote the audit report to " << file << ": " << page.data.requests << " requests, "
            << page.data.findings.size() << (page.data.findings.size() == 1 ? " unusual pattern" : " unusual patterns")
            << (patient.empty() ? "" : ", " + std::to_string(page.disclosuresTotal) + " disclosures of patient " + patient)
            << "; audit trail verified\n";
  return 0;
}

}  // namespace hie::app

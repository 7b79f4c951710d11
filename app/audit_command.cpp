// audit keygen | verify | export --format fhir (the others: audit_export_command.cpp, audit_evidence_command.cpp)
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <limits>
#include <set>
#include <sstream>

#include "app/audit_evidence_command.h"
#include "app/audit_export_command.h"
#include "app/audit_report_command.h"
#include "app/audit_verify.h"
#include "app/command_support.h"
#include "app/commands.h"
#include "common/file.h"
#include "audit/audit_chain.h"
#include "audit/audit_export.h"
#include "audit/audit_query.h"
#include "audit/audit_store.h"
#include "audit/log_verifier.h"
#include "audit/pg_audit_log_store.h"
#include "audit/witness_policy.h"
#include "audit/fhir_audit_event.h"
#include "audit/postgres_audit_reader.h"
#include "audit/signing_key.h"
#include "auth/tls/tls_material.h"
#include "common/json_writer.h"
#include "db/connection.h"
#include "db/migrations.h"
#include "exchange/fhir/operation_outcome.h"

namespace hie::app {
namespace {

const char* const kAuditUsage =
    "usage: hie-node audit keygen --out FILE | verify [--checkpoint FILE]... [--public-key FILE] [--witnesses K] "
    "[--witness-key VKEY]... | export --format fhir|jsonl|jsonl-v1 [--from T] [--to T] [--cosigned K] | "
    "checkpoint [--origin O] [--cosigned K] [--v1] | consistency --old SIZE [--new SIZE] [--origin O] | keys | "
    "evidence REQUEST_ID [--out DIR] [--origin O] [--index N] | "
    "report --html FILE [--from T] [--to T] [--patient ID [--hipaa]] [--public-key FILE] [--checkpoint FILE]... "
    "[--witnesses K] [--witness-key VKEY]...";

int keygen(const ParsedArgs& args) {
  if (!args.has("out") || !args.positional.empty()) return usageError("usage: hie-node audit keygen --out FILE");
  const std::string path = args.value("out");
  auto key = audit::SigningKey::generate();
  if (!key) return runtimeError(key.error().internal);
  // Never overwrite: losing the old key would orphan every chain it signed.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return runtimeError(errno == EEXIST ? path + " already exists; hie-node will not overwrite an audit key"
                                        : "cannot create " + path + ": " + std::strerror(errno));
  }
  const std::string pem = key->privatePem();
  const bool written = ::write(fd, pem.data(), pem.size()) == static_cast<ssize_t>(pem.size());
  const bool closed = ::close(fd) == 0;
  if (!written || !closed) {
    ::unlink(path.c_str());
    return runtimeError("cannot write " + path);
  }
  std::cerr << "wrote the Ed25519 audit signing key to " << path
            << " (mode 0600); give auditors the public key below:\n";
  std::cout << key->publicPem();
  return 0;
}

Result<audit::VerifyKey> verifyKeyFor(const ParsedArgs& args, const ConfigSource& config) {
  if (args.has("public-key")) return audit::VerifyKey::fromPemFile(args.value("public-key"));
  auto path = config.requirePath("audit.signingKey");
  if (!path) {
    return fail(ErrorCode::kInvalidInput, "verify needs the audit public key: --public-key FILE or audit.signingKey");
  }
  return audit::VerifyKey::fromPemFile(*path);
}

// A kept checkpoint file: v1 checkpoint lines (JSON, as `audit checkpoint --v1` prints them) or one
// v2 checkpoint (a signed note, as `audit checkpoint` prints it, cosignatures included).
struct KeptCheckpoints {
  std::vector<audit::Checkpoint> v1;
  std::vector<std::pair<std::string, std::string>> v2;  // (file, note)
};

Result<bool> readKeptCheckpoint(const std::string& file, KeptCheckpoints& kept) {
  auto text = readFile(file, "checkpoint file");
  if (!text) return tl::make_unexpected(text.error());
  const std::size_t first = text->find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return fail(ErrorCode::kInvalidInput, "checkpoint file " + file + " holds no checkpoint");
  if ((*text)[first] != '{') {
    auto parsed = audit::note::parse(*text);
    if (!parsed) return fail(ErrorCode::kInvalidInput, "checkpoint file " + file + ": " + parsed.error().internal);
    auto head = audit::TreeHead::parse(parsed->text);
    if (!head) return fail(ErrorCode::kInvalidInput, "checkpoint file " + file + ": " + head.error().internal);
    kept.v2.emplace_back(file, *text);
    return true;
  }
  std::stringstream lines(*text);
  std::string line;
  int lineNumber = 0;
  while (std::getline(lines, line)) {
    ++lineNumber;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto cp = audit::Checkpoint::fromJson(line);
    if (!cp) {
      return fail(ErrorCode::kInvalidInput,
                  "checkpoint file " + file + " line " + std::to_string(lineNumber) + ": " + cp.error().external);
    }
    kept.v1.push_back(*cp);
  }
  return true;
}

std::string plural(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

void addVerifyOptions(OptionSpec& spec) {
  for (const char* name : {"checkpoint", "public-key", "witnesses", "witness-key"}) spec.withValue.insert(name);
  spec.repeatable.insert("checkpoint");
  spec.repeatable.insert("witness-key");
}

Result<audit::VerificationSummary> verifyAuditTrail(const ParsedArgs& args, const ConfigSource& config,
                                                    const std::string& uri) {
  int required = 0;
  if (args.has("witnesses")) {
    const std::string k = args.value("witnesses");
    if (k.empty() || k.size() > 3 || k.find_first_not_of("0123456789") != std::string::npos || std::stoi(k) > 100) {
      return fail(ErrorCode::kInvalidInput, "--witnesses must be a number from 0 to 100");
    }
    required = std::stoi(k);
  }
  std::vector<audit::note::VerifierKey> witnesses;
  for (const auto& text : args.values("witness-key")) {
    auto vkey = audit::parseVerifierKeyOfType(text, audit::note::kCosignatureV1, "--witness-key");
    if (!vkey) return fail(ErrorCode::kInvalidInput, vkey.error().internal);
    witnesses.push_back(*vkey);
  }
  auto key = verifyKeyFor(args, config);
  if (!key) return fail(ErrorCode::kUnavailable, key.error().external);
  KeptCheckpoints kept;
  for (const auto& file : args.values("checkpoint")) {
    if (auto read = readKeptCheckpoint(file, kept); !read) return fail(ErrorCode::kUnavailable, read.error().internal);
  }
  // The database first, so that a stopped or unmigrated one is named as such rather than as the
  // first table that could not be read.
  {
    auto conn = db::connect(uri);
    if (!conn) return fail(ErrorCode::kUnavailable, "the database is unreachable: " + conn.error().internal);
    auto schema = db::checkSchema(**conn, db::embeddedMigrations());
    if (!schema) return fail(ErrorCode::kUnavailable, schema.error().internal);
  }
  audit::PgAuditLogStore logs(uri);
  if (!args.has("witness-key")) {
    // The witnesses of the peer directory, unless the auditor names the ones they trust.
    auto known = logs.knownWitnessKeys();
    if (!known) return fail(ErrorCode::kUnavailable, "cannot read the peer directory's witness keys: " + known.error().internal);
    witnesses = std::move(*known);
  }

  // Format v1: every chain, entry by entry, with each row's query columns against its entry.
  audit::AuditStore store(uri);
  audit::ChainVerifier chains(*key);
  std::map<std::string, std::int64_t> v1Checked;  // chain -> the highest seq checked
  auto visited = store.forEachEntryWithColumns([&](const audit::SealedEntry& e, const audit::EntryColumns& c) {
    auto at = v1Checked.emplace(e.chain, e.seq).first;
    at->second = std::max(at->second, e.seq);
    chains.feed(e);
    chains.checkColumns(e, c);
    return true;
  });
  if (!visited) return fail(ErrorCode::kUnavailable, "cannot read the audit trail: " + visited.error().internal);
  auto stored = store.latestCheckpoints();
  if (!stored) return fail(ErrorCode::kUnavailable, "cannot read audit checkpoints: " + stored.error().internal);
  for (const auto& cp : *stored) chains.checkCheckpoint(cp);
  for (const auto& cp : kept.v1) chains.checkCheckpoint(cp);

  // Format v2: every log in the database, this node's (audit.origin) and those of kept checkpoints.
  auto found = logs.origins();
  if (!found) return fail(ErrorCode::kUnavailable, "cannot read the audit log: " + found.error().internal);
  std::set<std::string> origins(found->begin(), found->end());
  if (auto origin = config.get("audit.origin")) {
    origins.insert(*origin);
  } else if (auto node = config.get("node.id")) {
    origins.insert(audit::defaultLogOrigin(*node));
  }
  for (const auto& [file, text] : kept.v2) origins.insert(audit::TreeHead::parse(audit::note::parse(text)->text)->origin);
  std::vector<audit::LogVerifier> logVerifiers;
  std::vector<std::uint64_t> newestStored;
  std::vector<std::string> invalidOrigins;
  for (const auto& origin : origins) {
    if (!audit::isValidOrigin(origin)) {
      // No log of this node or of a kept checkpoint has such a name: its rows were put there by
      // something else, and cannot be verified (no key names them). Reported, never skipped silently.
      invalidOrigins.push_back(origin);
      continue;
    }
    audit::LogVerifier v(origin, audit::note::VerifierKey::of(origin, audit::note::kEd25519, *key), witnesses);
    std::uint64_t newest = 0;
    std::size_t storedCheckpoints = 0;
    // Checkpoints, cosignatures and leaves in one snapshot: a log growing meanwhile is seen whole.
    auto leaves = logs.readLog(
        origin,
        [&](const std::vector<audit::CheckpointRow>& rows, const std::vector<audit::CosignatureRow>& cosignatures) {
          storedCheckpoints = rows.size();
          for (const auto& row : rows) {
            v.storedCheckpoint(row);
            newest = std::max(newest, row.size);
          }
          for (const auto& row : cosignatures) v.storedCosignature(row);
          for (const auto& [file, text] : kept.v2) {
            if (audit::TreeHead::parse(audit::note::parse(text)->text)->origin == origin) v.keptCheckpoint(text, file);
          }
        },
        [&v](const audit::StoredLeaf& l) {
          v.leaf(l.index, l.leaf, l.leafHash, l.subtreeHashes);
          return true;
        });
    if (!leaves) return fail(ErrorCode::kUnavailable, "cannot read the audit log: " + leaves.error().internal);
    if (storedCheckpoints == 0 && *leaves == 0 && v.checkpointsChecked() == 0) continue;  // no such log here
    v.finish(required);
    logVerifiers.push_back(std::move(v));
    newestStored.push_back(newest);
  }

  // Every problem, one line each, in the order found: v1 chain by chain, then each log.
  // Names are kept encoded as entries store text: a tampered row sends no control bytes to a terminal.
  audit::VerificationSummary summary;
  std::set<std::string> where;
  for (const auto& p : chains.problems()) {
    summary.problems.push_back("chain " + audit::printableAscii(p.chain) + " entry " + std::to_string(p.seq) + ": " +
                               audit::problemKindName(p.kind) + ": " + p.what);
    where.insert("chain " + p.chain);
  }
  for (const auto& origin : invalidOrigins) {
    summary.problems.push_back("log " + audit::printableAscii(origin) + ": " +
                               audit::problemKindName(audit::LogVerifier::Kind::kInvalidOrigin) +
                               ": rows are stored under a name that is not a valid log origin; the node never "
                               "writes one, and they were not verified");
    where.insert("log " + origin);
  }
  summary.checkpoints = stored->size() + kept.v1.size();
  for (std::size_t i = 0; i < logVerifiers.size(); ++i) {
    const auto& v = logVerifiers[i];
    summary.leaves += v.leavesChecked();
    summary.checkpoints += v.checkpointsChecked();
    for (const auto& p : v.problems()) {
      summary.problems.push_back("log " + audit::printableAscii(v.origin()) + " " + p.where + ": " +
                                 audit::problemKindName(p.kind) + ": " + p.what);
      where.insert("log " + v.origin());
    }
    audit::VerificationSummary::Log log;
    log.origin = v.origin();
    log.leaves = v.leavesChecked();
    log.newestCheckpoint = newestStored[i];
    log.signedLeaves = v.signedLeaves();
    summary.verifiedLeaves[v.origin()] = v.signedLeaves();
    if (auto w = v.newestWitnessed(std::max(1, required))) {
      log.witnessedSize = w->size;
      log.witnesses = w->witnesses;
    }
    summary.logs.push_back(log);
  }
  summary.placesWithProblems = where.size();
  summary.v1Entries = chains.entriesChecked();
  summary.verifiedSeqs = std::move(v1Checked);
  summary.chains = chains.chainsSeen();
  summary.witnessKeys = witnesses.size();
  return summary;
}

namespace {

int verify(const ParsedArgs& args, const ConfigSource& config, const std::string& uri) {
  if (!args.positional.empty()) return usageError("audit verify takes no arguments");
  auto summary = verifyAuditTrail(args, config, uri);
  if (!summary) {
    return summary.error().code == ErrorCode::kInvalidInput ? usageError(summary.error().internal)
                                                            : runtimeError(summary.error().internal);
  }
  for (const auto& line : summary->problems) std::cerr << "hie-node: audit: " << line << "\n";
  if (!summary->verified()) {
    std::cerr << "hie-node: audit verification FAILED: " << plural(summary->problems.size(), "problem", "problems")
              << " in " << plural(summary->placesWithProblems, "log or chain", "logs or chains") << "; "
              << summary->checkedText() << "\n";
    return 1;
  }
  std::cout << "audit trail verified: " << summary->checkedText() << "; leaf hashes, tree, checkpoint signatures"
            << (summary->witnessKeys == 0 ? "" : ", cosignatures")
            << " and v1 hashes, links, signatures and columns intact\n";
  for (const auto& log : summary->logs) {
    if (log.witnessedSize > 0) {
      std::cout << "  log " << log.origin << ": newest checkpoint cosigned by " << log.witnesses
                << (log.witnesses == 1 ? " known witness" : " known witnesses") << " covers " << log.witnessedSize
                << " of " << log.leaves << " leaves\n";
    } else {
      std::cout << "  log " << log.origin << ": no checkpoint cosigned by a known witness ("
                << plural(summary->witnessKeys, "witness key", "witness keys") << " known)\n";
    }
  }
  return 0;
}

// fhir: the entries of both formats whose signed time lies within --from/--to, oldest first, as the
// auditor API reads them (PgAuditReader).
int exportFhir(const std::string& from, const std::string& to, const std::string& uri) {
  audit::AuditFilter filter;
  filter.from = from;
  filter.to = to;
  if ((!from.empty() && !audit::auditTimeBound(from, audit::TimeBound::kFrom)) ||
      (!to.empty() && !audit::auditTimeBound(to, audit::TimeBound::kTo))) {
    return usageError("--from and --to must name a date and time that exist, within the years 0001-9999 in UTC");
  }
  db::ConnectionPool pool(uri, 1);
  audit::PgAuditReader reader(pool);
  bool first = true;
  std::int64_t unreadable = 0;
  std::cout << "{\"resourceType\":\"Bundle\",\"type\":\"collection\"";
  auto visited = reader.forEach(filter, [&](const audit::TrailEntry& e) {
    // The entry array opens with its first element: FHIR allows no empty array.
    std::cout << (first ? ",\"entry\":[" : ",") << "{\"resource\":";
    first = false;
    if (auto event = audit::fhirAuditEvent(e)) {
      std::cout << *event << "}";
      return true;
    }
    // An entry that cannot be rendered (damaged or altered) is never dropped silently: the reader
    // sees where it is, and `hie-node audit verify` says what is wrong with it.
    ++unreadable;
    JsonWriter outcome;
    exchange::writeOperationOutcome(outcome, "error", "processing",
                                    e.name() + " cannot be rendered; run hie-node audit verify");
    std::cout << outcome.take() << "}";
    std::cerr << "hie-node: " << audit::printableAscii(e.name()) << " cannot be rendered; run hie-node audit verify\n";
    return true;
  });
  std::cout << (first ? "}\n" : "]}\n");
  std::cout.flush();
  if (!visited) return runtimeError("cannot read the audit trail: " + visited.error().internal);
  if (!std::cout) return runtimeError("cannot write the export to standard output");
  std::cerr << "exported " << *visited << " audit entries";
  if (unreadable > 0) std::cerr << " (" << unreadable << " of them could not be rendered)";
  std::cerr << "\n";
  return 0;
}

int exportEntries(const ParsedArgs& args, const std::string& uri) {
  if (!args.positional.empty()) return usageError("audit export takes no arguments besides its options");
  const std::string format = args.value("format");
  if (format != "fhir") return usageError("--format must be fhir, jsonl or jsonl-v1");
  const std::string from = args.value("from"), to = args.value("to");
  if ((args.has("from") && !audit::isAuditTime(from)) || (args.has("to") && !audit::isAuditTime(to))) {
    return usageError("--from and --to must be YYYY-MM-DD or an RFC 3339 date-time");
  }
  return exportFhir(from, to, uri);
}

}  // namespace

int runAudit(const Args& argv) {
  if (argv.empty()) return usageError(kAuditUsage);
  const std::string verb = argv.front();
  if (verb == "keys") return runAuditKeys(Args(argv.begin() + 1, argv.end()));
  OptionSpec spec;
  if (verb == "keygen") spec = OptionSpec{{"out"}, {}, {}};
  else if (verb == "verify") addVerifyOptions(spec);
  else if (verb == "report") spec = auditReportOptions();
  else if (verb == "export") spec = auditExportOptions();
  else if (verb == "checkpoint") spec = auditCheckpointOptions();
  else if (verb == "consistency") spec = auditConsistencyOptions();
  else if (verb == "evidence") spec = auditEvidenceOptions();
  else return usageError("unknown audit subcommand '" + verb + "'\n" + kAuditUsage);
  auto args = parseArgs(Args(argv.begin() + 1, argv.end()), spec);
  if (!args) return usageError(args.error().external);
  if (verb == "keygen") return keygen(*args);
  if (verb == "export" && !args->has("format")) return usageError("audit export needs --format fhir|jsonl|jsonl-v1");
  if (verb == "report") {
    if (int bad = checkAuditReportUsage(*args)) return bad;
  }
  auto config = loadConfigFor(*args);
  if (!config) return runtimeError(config.error().external);
  auto uri = databaseUri(*config);
  if (!uri) return runtimeError(uri.error().external);
  if (verb == "verify") return verify(*args, *config, *uri);
  if (verb == "report") return runAuditReport(*args, *config, *uri);
  if (verb == "export" && args->value("format") != "fhir") return runAuditExportJsonl(*args, *config, *uri);
  if (verb == "export" && args->has("cosigned")) return usageError("--cosigned applies to --format jsonl");
  if (verb == "export") return exportEntries(*args, *uri);
  if (verb == "consistency") return runAuditConsistency(*args, *config, *uri);
  if (verb == "evidence") return runAuditEvidence(*args, *config, *uri);
  return runAuditCheckpoint(*args, *config, *uri);
}

}  // namespace hie::app

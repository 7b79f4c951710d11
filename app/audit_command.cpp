// audit keygen | verify | export | checkpoint
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <set>
#include <sstream>

#include "app/command_support.h"
#include "app/commands.h"
#include "common/file.h"
#include "audit/audit_chain.h"
#include "audit/audit_export.h"
#include "audit/audit_query.h"
#include "audit/audit_store.h"
#include "audit/fhir_audit_event.h"
#include "audit/signing_key.h"
#include "auth/tls/tls_material.h"

namespace hie::app {
namespace {

const char* const kAuditUsage =
    "usage: hie-node audit keygen --out FILE | verify [--checkpoint FILE]... [--public-key FILE] | "
    "export --format fhir|jsonl [--from T] [--to T] | checkpoint";

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

int verify(const ParsedArgs& args, const ConfigSource& config, const std::string& uri) {
  if (!args.positional.empty()) return usageError("audit verify takes no arguments");
  auto key = verifyKeyFor(args, config);
  if (!key) return runtimeError(key.error().external);
  std::vector<audit::Checkpoint> given;
  for (const auto& file : args.values("checkpoint")) {
    auto text = readFile(file, "checkpoint file");
    if (!text) return runtimeError(text.error().external);
    // One checkpoint per line, as `hie-node audit checkpoint` prints them.
    std::stringstream lines(*text);
    std::string line;
    int lineNumber = 0, found = 0;
    while (std::getline(lines, line)) {
      ++lineNumber;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      auto cp = audit::Checkpoint::fromJson(line);
      if (!cp) return runtimeError("checkpoint file " + file + " line " + std::to_string(lineNumber) + ": " + cp.error().external);
      given.push_back(*cp);
      ++found;
    }
    if (found == 0) return runtimeError("checkpoint file " + file + " holds no checkpoint");
  }
  audit::AuditStore store(uri);
  audit::ChainVerifier verifier(*key);
  auto visited = store.forEachEntry([&verifier](const audit::SealedEntry& e) {
    verifier.feed(e);
    return true;
  });
  if (!visited) return runtimeError("cannot read the audit trail: " + visited.error().internal);
  auto stored = store.latestCheckpoints();
  if (!stored) return runtimeError("cannot read audit checkpoints: " + stored.error().internal);
  for (const auto& cp : *stored) verifier.checkCheckpoint(cp);
  for (const auto& cp : given) verifier.checkCheckpoint(cp);
  if (!verifier.problems().empty()) {
    // Every problem, one line each, in the order found (chain by chain, then the checkpoints).
    // A chain id is printed encoded as entries store text: a tampered row sends no control bytes to the terminal.
    std::set<std::string> chains;
    for (const auto& p : verifier.problems()) {
      std::cerr << "hie-node: audit: chain " << audit::printableAscii(p.chain) << " entry " << p.seq << ": "
                << audit::problemKindName(p.kind) << ": " << p.what << "\n";
      chains.insert(p.chain);
    }
    auto count = [](std::size_t n, const char* one, const char* many) {
      return std::to_string(n) + " " + (n == 1 ? one : many);
    };
    std::cerr << "hie-node: audit verification FAILED: " << count(verifier.problems().size(), "problem", "problems")
              << " in " << count(chains.size(), "chain", "chains") << "; checked "
              << count(static_cast<std::size_t>(verifier.entriesChecked()), "entry", "entries") << " in "
              << count(verifier.chainsSeen(), "chain", "chains") << "\n";
    return 1;
  }
  std::cout << "audit trail verified: " << verifier.entriesChecked() << " entries in " << verifier.chainsSeen()
            << " chains, " << stored->size() + given.size() << " checkpoints; hashes, links and signatures intact\n";
  return 0;
}

// jsonl: the signed statements of what the export holds (one per chain), then one line per entry.
int exportJsonl(const std::string& from, const std::string& to, const ConfigSource& config, const std::string& uri) {
  auto keyPath = config.requirePath("audit.signingKey");
  if (!keyPath) return runtimeError(keyPath.error().external);
  auto key = audit::SigningKey::fromPemFile(*keyPath);
  if (!key) {
    return runtimeError("a jsonl export is signed with the audit key (audit.signingKey): " + key.error().external);
  }
  const audit::ExportRequest request = audit::newExportRequest(from, to);
  std::string signingError;
  audit::AuditStore store(uri);
  auto visited = store.forEachExported(
      from, to,
      [&](const std::vector<audit::ExportRange>& ranges) {
        auto statements = audit::signExportStatements(request, ranges, *key);
        if (!statements) {
          signingError = statements.error().internal;
          return false;
        }
        for (const auto& statement : *statements) std::cout << statement.toJson() << "\n";
        return true;
      },
      [](const audit::SealedEntry& e) {
        std::cout << audit::exportEntryLine(e) << "\n";
        return true;
      });
  std::cout.flush();
  if (!signingError.empty()) return runtimeError("cannot sign the export: " + signingError);
  if (!visited) return runtimeError("cannot read the audit trail: " + visited.error().internal);
  if (!std::cout) return runtimeError("cannot write the export to standard output");
  std::cerr << "exported " << *visited << " audit entries\n";
  return 0;
}

int exportEntries(const ParsedArgs& args, const ConfigSource& config, const std::string& uri) {
  if (!args.positional.empty()) return usageError("audit export takes no arguments besides its options");
  const std::string format = args.value("format");
  if (format != "fhir" && format != "jsonl") return usageError("--format must be fhir or jsonl");
  const std::string from = args.value("from"), to = args.value("to");
  if ((args.has("from") && !audit::isAuditTime(from)) || (args.has("to") && !audit::isAuditTime(to))) {
    return usageError("--from and --to must be YYYY-MM-DD or an RFC 3339 date-time");
  }
  if (format == "jsonl") return exportJsonl(from, to, config, uri);
  audit::AuditStore store(uri);
  bool first = true;
  std::cout << "{\"resourceType\":\"Bundle\",\"type\":\"collection\"";
  auto visited = store.forEachEntry(
      [&](const audit::SealedEntry& e) {
        if (auto event = audit::fhirAuditEvent(e)) {
          // The entry array opens with its first element: FHIR allows no empty array.
          std::cout << (first ? ",\"entry\":[" : ",") << "{\"resource\":" << *event << "}";
          first = false;
        }
        return true;
      },
      from, to);
  std::cout << (first ? "}\n" : "]}\n");
  std::cout.flush();
  if (!visited) return runtimeError("cannot read the audit trail: " + visited.error().internal);
  if (!std::cout) return runtimeError("cannot write the export to standard output");
  std::cerr << "exported " << *visited << " audit entries\n";
  return 0;
}

int checkpoint(const ParsedArgs& args, const std::string& uri) {
  if (!args.positional.empty()) return usageError("audit checkpoint takes no arguments");
  audit::AuditStore store(uri);
  auto latest = store.latestCheckpoints();
  if (!latest) return runtimeError("cannot read audit checkpoints: " + latest.error().internal);
  if (latest->empty()) return runtimeError("no audit checkpoint has been written yet");
  for (const auto& cp : *latest) std::cout << cp.toJson() << "\n";
  return 0;
}

}  // namespace

int runAudit(const Args& argv) {
  if (argv.empty()) return usageError(kAuditUsage);
  const std::string verb = argv.front();
  if (verb == "keys") return runAuditKeys(Args(argv.begin() + 1, argv.end()));
  OptionSpec spec;
  if (verb == "keygen") spec = OptionSpec{{"out"}, {}, {}};
  else if (verb == "verify") spec = OptionSpec{{"checkpoint", "public-key"}, {"checkpoint"}, {}};
  else if (verb == "export") spec = OptionSpec{{"format", "from", "to"}, {}, {}};
  else if (verb != "checkpoint") return usageError("unknown audit subcommand '" + verb + "'\n" + kAuditUsage);
  auto args = parseArgs(Args(argv.begin() + 1, argv.end()), spec);
  if (!args) return usageError(args.error().external);
  if (verb == "keygen") return keygen(*args);
  if (verb == "export" && !args->has("format")) return usageError("audit export needs --format fhir|jsonl");
  auto config = loadConfigFor(*args);
  if (!config) return runtimeError(config.error().external);
  auto uri = databaseUri(*config);
  if (!uri) return runtimeError(uri.error().external);
  if (verb == "verify") return verify(*args, *config, *uri);
  if (verb == "export") return exportEntries(*args, *config, *uri);
  return checkpoint(*args, *uri);
}

}  // namespace hie::app

// audit export --format jsonl|jsonl-v1 | checkpoint | consistency
#include "app/audit_export_command.h"

#include <algorithm>
#include <iostream>
#include <optional>

#include "app/commands.h"
#include "audit/audit_export.h"
#include "audit/audit_query.h"
#include "audit/audit_store.h"
#include "audit/log_export.h"
#include "audit/pg_audit_log_store.h"
#include "audit/signing_key.h"
#include "audit/transparency_log.h"
#include "common/hex.h"
#include "common/time.h"

namespace hie::app {
namespace {

// Leaves per proof block: a block's leaves and their subtrees are all the export holds in memory.
constexpr std::uint64_t kBlockLeaves = 4096;

// This node's own log: the origin of an export of a database that holds no log yet.
Result<std::string> ownLogOrigin(const ConfigSource& config) {
  if (auto origin = config.get("audit.origin")) return *origin;
  auto nodeId = config.require("node.id");
  if (!nodeId) return tl::make_unexpected(nodeId.error());
  return audit::defaultLogOrigin(*nodeId);
}

// Origins come from the database: printed encoded, as entries store text.
std::string shown(const std::string& origin) { return audit::printableAscii(origin, 300); }

Result<std::uint64_t> sizeOption(const ParsedArgs& args, const std::string& name) {
  const std::string text = args.value(name);
  if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos ||
      (text.size() > 1 && text[0] == '0')) {
    return fail(ErrorCode::kInvalidInput, "--" + name + " must be a tree size: a decimal number without leading zeros");
  }
  return static_cast<std::uint64_t>(std::stoull(text));
}

Result<int> cosignedOption(const ParsedArgs& args) {
  if (!args.has("cosigned")) return 0;
  const std::string text = args.value("cosigned");
  if (text.empty() || text.size() > 3 || text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(text) > 100) {
    return fail(ErrorCode::kInvalidInput, "--cosigned must be a number of witnesses, 0 to 100");
  }
  return std::stoi(text);
}

// The size of the checkpoint an auditor gets for origin: the newest, or the newest cosigned by
// `cosigned` distinct witnesses. A runtime error (naming the log) when there is none.
Result<std::uint64_t> chosenSize(audit::PgAuditLogStore& store, const std::string& origin, int cosigned) {
  auto size = store.latestCosignedSize(origin, cosigned);
  if (!size) return tl::make_unexpected(size.error());
  if (!*size) {
    if (cosigned > 0) {
      return fail(ErrorCode::kNotFound, "log " + shown(origin) + " has no stored checkpoint cosigned by " +
                                            std::to_string(cosigned) + " witnesses");
    }
    return fail(ErrorCode::kNotFound, "log " + shown(origin) + " has leaves but no signed checkpoint; run hie-node audit verify");
  }
  return **size;
}

// The stored checkpoint of size, checked to be a well-formed checkpoint of origin, with the
// cosignatures stored for it appended.
Result<std::string> cosignedNote(audit::PgAuditLogStore& store, const std::string& origin, std::uint64_t size,
                                 audit::TreeHead* head = nullptr) {
  auto note = store.checkpointAt(origin, size);
  if (!note) return tl::make_unexpected(note.error());
  const std::string what = "the stored checkpoint of size " + std::to_string(size) + " of log " + shown(origin);
  if (!*note) return fail(ErrorCode::kNotFound, "log " + shown(origin) + " has no stored checkpoint of size " + std::to_string(size));
  auto parsed = audit::note::parse(**note);
  auto tree = parsed ? audit::TreeHead::parse(parsed->text) : Result<audit::TreeHead>(tl::make_unexpected(parsed.error()));
  if (!tree || tree->origin != origin || tree->size != size) {
    return fail(ErrorCode::kInternal, what + " is malformed or names another tree (altered in the database?); run hie-node "
                                             "audit verify");
  }
  if (head != nullptr) *head = *tree;
  auto lines = store.cosignatures(origin, size);
  if (!lines) return tl::make_unexpected(lines.error());
  std::size_t dropped = 0;
  std::string out = audit::withCosignatures(**note, *lines, dropped);
  if (dropped > 0) {
    std::cerr << "hie-node: " << what << ": left out " << dropped
              << " stored cosignature(s) that are not signature lines (altered in the database?)\n";
  }
  return out;
}

// One log in a jsonl export: the checkpoint its proofs lead to and the run of leaves it holds.
struct LogPlan {
  std::string origin;
  audit::TreeHead head;
  std::string note;  // with cosignatures
  std::uint64_t first = 0, end = 0;
};

Error missingLeaf(const std::string& origin, std::uint64_t index) {
  return Error{ErrorCode::kInternal,
               "leaf " + std::to_string(index) + " of log " + shown(origin) +
                   " is missing from the database (deleted?); run hie-node audit verify",
               ""};
}

// Writes one line per leaf of plan's run, block by block: memory holds one block, never the log.
Result<std::uint64_t> streamLog(audit::PgAuditLogStore& leaves, audit::PgAuditLogStore& hashes, const LogPlan& plan) {
  if (plan.first == plan.end) return 0;
  const std::uint64_t size = plan.head.size;
  // Whole blocks are read (the leaves around the run are hashed into the paths of the run's leaves).
  const std::uint64_t readBegin = plan.first / kBlockLeaves * kBlockLeaves;
  const std::uint64_t readEnd = std::min(((plan.end - 1) / kBlockLeaves + 1) * kBlockLeaves, size);
  std::uint64_t expected = readBegin, blockBegin = readBegin, written = 0;
  std::vector<audit::merkle::Hash> blockHashes;
  std::vector<std::pair<std::uint64_t, std::string>> pending;
  std::optional<Error> problem;
  auto flush = [&]() -> bool {
    if (blockHashes.empty()) return true;
    auto source = hashes.hashes(plan.origin);  // a fresh cache per block
    auto block = audit::ProofBlock::make(blockBegin, std::move(blockHashes), size, *source);
    blockHashes.clear();
    if (!block) {
      problem = Error{ErrorCode::kInternal, "cannot prove leaves " + std::to_string(blockBegin) + " onwards of log " +
                                                shown(plan.origin) + ": " + block.error().internal + "; run hie-node audit verify",
                      ""};
      return false;
    }
    for (const auto& [index, leaf] : pending) {
      auto proof = block->proof(index);
      auto line = proof ? audit::logExportLine(leaf, index, audit::tlogProof(index, *proof, plan.note)) : std::nullopt;
      if (!line) {
        problem = Error{ErrorCode::kInternal, "leaf " + std::to_string(index) + " of log " + shown(plan.origin) +
                                                  " is not an entry hie-node wrote (altered in the database?); run "
                                                  "hie-node audit verify",
                        ""};
        return false;
      }
      std::cout << *line << '\n';
      ++written;
    }
    pending.clear();
    if (!std::cout) problem = Error{ErrorCode::kInternal, "cannot write the export to standard output", ""};
    return !problem;
  };
  auto visited = leaves.forEachLeaf(plan.origin, readBegin, readEnd, [&](const audit::StoredLeaf& l) {
    if (l.index != expected) {
      problem = missingLeaf(plan.origin, expected);
      return false;
    }
    audit::merkle::Hash hash{};
    if (!audit::merkle::fromBytes(l.leafHash, hash)) {
      problem = Error{ErrorCode::kInternal, "the stored hash of leaf " + std::to_string(l.index) + " of log " +
                                                shown(plan.origin) + " is not 32 bytes; run hie-node audit verify",
                      ""};
      return false;
    }
    if (l.index - blockBegin == kBlockLeaves) {
      if (!flush()) return false;
      blockBegin = l.index;
    }
    blockHashes.push_back(hash);
    if (l.index >= plan.first && l.index < plan.end) pending.emplace_back(l.index, l.leaf);
    ++expected;
    return true;
  });
  if (problem) return tl::make_unexpected(*problem);
  if (!visited) return tl::make_unexpected(visited.error());
  if (expected != readEnd) return tl::make_unexpected(missingLeaf(plan.origin, expected));
  if (!flush()) return tl::make_unexpected(*problem);
  return written;
}

int exportV2(const ParsedArgs& args, const ConfigSource& config, const std::string& uri) {
  auto cosigned = cosignedOption(args);
  if (!cosigned) return usageError(cosigned.error().external);
  std::string from, to;
  for (const char* name : {"from", "to"}) {
    if (!args.has(name)) continue;
    auto bound = audit::exportTimeBound(args.value(name), std::string(name) == "to");
    if (!bound) return usageError(std::string("--") + name + ": " + bound.error().external);
    (std::string(name) == "to" ? to : from) = *bound;
  }
  auto keyPath = config.requirePath("audit.signingKey");
  if (!keyPath) return runtimeError(keyPath.error().external);
  auto key = audit::SigningKey::fromPemFile(*keyPath);
  if (!key) return runtimeError("a jsonl export is signed with the audit key (audit.signingKey): " + key.error().external);
  auto publicKey = audit::VerifyKey::fromRaw(key->rawPublicKey());
  if (!publicKey) return runtimeError(publicKey.error().internal);

  // Everything the statements say is settled before the first line is written.
  audit::PgAuditLogStore store(uri), hashStore(uri);
  auto origins = store.origins();
  if (!origins) return runtimeError("cannot read the audit log: " + origins.error().internal);
  std::vector<LogPlan> plans;
  for (const auto& origin : *origins) {
    LogPlan plan;
    plan.origin = origin;
    auto size = chosenSize(store, origin, *cosigned);
    if (!size) return runtimeError(size.error().internal);
    auto note = cosignedNote(store, origin, *size, &plan.head);
    if (!note) return runtimeError(note.error().internal);
    plan.note = std::move(*note);
    const auto logKey = audit::note::VerifierKey::of(origin, audit::note::kEd25519, *publicKey);
    if (auto opened = audit::openCheckpoint(plan.note, logKey); !opened) {
      return runtimeError("the checkpoint of size " + std::to_string(*size) + " of log " + shown(origin) +
                          " does not verify with audit.signingKey (" + opened.error().internal +
                          "); an export is signed with each log's own key; run hie-node audit verify");
    }
    if (from.empty() && to.empty()) {
      plan.first = 0;
      plan.end = *size;
    } else {
      auto run = store.leafRunByTime(origin, *size, from, to);
      if (!run) return runtimeError("cannot read the audit log: " + run.error().internal);
      plan.first = run->first;
      plan.end = run->second;
    }
    plans.push_back(std::move(plan));
  }

  audit::LogExportStatement request;
  request.exportId = randomHex(8);
  request.time = utc::nowMillis();
  request.from = from;
  request.to = to;
  request.logs = static_cast<std::int64_t>(plans.size());
  std::vector<audit::LogExportStatement> statements;
  if (plans.empty()) {
    // A database without a log still gets a signed statement: an emptied file is told from an empty log.
    auto own = ownLogOrigin(config);
    if (!own) return runtimeError(own.error().external);
    audit::LogExportStatement s = request;
    s.origin = *own;
    s.root = audit::merkle::emptyRoot();
    statements.push_back(s);
  }
  for (const auto& plan : plans) {
    audit::LogExportStatement s = request;
    s.origin = plan.origin;
    s.size = plan.head.size;
    s.root = plan.head.root;
    s.first = plan.first;
    s.end = plan.end;
    statements.push_back(s);
  }
  for (auto& s : statements) {
    if (auto signedOk = audit::signStatement(s, *key); !signedOk) {
      return runtimeError("cannot sign the export: " + signedOk.error().internal);
    }
  }
  for (const auto& s : statements) std::cout << s.toJson() << "\n";
  std::uint64_t total = 0;
  for (const auto& plan : plans) {
    auto written = streamLog(store, hashStore, plan);
    if (!written) {
      std::cout.flush();
      return runtimeError(written.error().internal);
    }
    total += *written;
  }
  std::cout.flush();
  if (!std::cout) return runtimeError("cannot write the export to standard output");
  std::cerr << "exported " << total << " audit log leaves of " << plans.size() << (plans.size() == 1 ? " log" : " logs");
  for (const auto& plan : plans) {
    std::cerr << (&plan == &plans.front() ? ": " : ", ") << shown(plan.origin) << " leaves " << plan.first << "-"
              << (plan.end == 0 ? 0 : plan.end - 1) << " of its checkpoint of size " << plan.head.size;
  }
  std::cerr << "\n";
  return 0;
}

// Format v1: the signed statements of what the export holds (one per chain), then one line per entry.
int exportV1(const ParsedArgs& args, const ConfigSource& config, const std::string& uri) {
  if (args.has("cosigned")) return usageError("--cosigned applies to --format jsonl, not jsonl-v1");
  const std::string from = args.value("from"), to = args.value("to");
  if ((args.has("from") && !audit::isAuditTime(from)) || (args.has("to") && !audit::isAuditTime(to))) {
    return usageError("--from and --to must be YYYY-MM-DD or an RFC 3339 date-time");
  }
  auto keyPath = config.requirePath("audit.signingKey");
  if (!keyPath) return runtimeError(keyPath.error().external);
  auto key = audit::SigningKey::fromPemFile(*keyPath);
  if (!key) {
    return runtimeError("a jsonl export is signed with the audit key (audit.signingKey): " + key.error().external);
  }
  // The window applies to the entries' signed time; the statements keep --from/--to as given.
  std::string fromBound, toBound;
  if (args.has("from")) {
    auto bound = audit::auditTimeBound(from, audit::TimeBound::kFrom);
    if (!bound) return usageError("--from: " + bound.error().internal);
    fromBound = *bound;
  }
  if (args.has("to")) {
    auto bound = audit::auditTimeBound(to, audit::TimeBound::kTo);
    if (!bound) return usageError("--to: " + bound.error().internal);
    toBound = *bound;
  }
  const audit::ExportRequest request = audit::newExportRequest(from, to);
  std::string signingError;
  audit::AuditStore store(uri);
  auto visited = store.forEachExported(
      fromBound, toBound,
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

int checkpointV1(const ParsedArgs& args, const std::string& uri) {
  if (args.has("origin") || args.has("cosigned")) return usageError("--v1 takes no other option");
  audit::AuditStore store(uri);
  auto latest = store.latestCheckpoints();
  if (!latest) return runtimeError("cannot read audit checkpoints: " + latest.error().internal);
  if (latest->empty()) return runtimeError("no audit checkpoint has been written yet");
  for (const auto& cp : *latest) std::cout << cp.toJson() << "\n";
  return 0;
}

}  // namespace

OptionSpec auditExportOptions() { return OptionSpec{{"format", "from", "to", "cosigned"}, {}, {}}; }
OptionSpec auditCheckpointOptions() { return OptionSpec{{"origin", "cosigned"}, {}, {"v1"}}; }
OptionSpec auditConsistencyOptions() { return OptionSpec{{"old", "new", "origin"}, {}, {}}; }

int runAuditExportJsonl(const ParsedArgs& args, const ConfigSource& config, const std::string& uri) {
  if (!args.positional.empty()) return usageError("audit export takes no arguments besides its options");
  const std::string format = args.value("format");
  if (format == "jsonl") return exportV2(args, config, uri);
  if (format == "jsonl-v1") return exportV1(args, config, uri);
  return usageError("--format must be fhir, jsonl or jsonl-v1");
}

int runAuditCheckpoint(const ParsedArgs& args, const ConfigSource& /*config*/, const std::string& uri) {
  if (!args.positional.empty()) return usageError("audit checkpoint takes no arguments besides its options");
  if (args.has("v1")) return checkpointV1(args, uri);
  auto cosigned = cosignedOption(args);
  if (!cosigned) return usageError(cosigned.error().external);
  audit::PgAuditLogStore store(uri);
  auto all = store.origins();
  if (!all) return runtimeError("cannot read the audit log: " + all.error().internal);
  std::vector<std::string> origins = std::move(*all);
  if (args.has("origin")) {
    if (std::find(origins.begin(), origins.end(), args.value("origin")) == origins.end()) {
      return runtimeError("this database holds no log " + shown(args.value("origin")));
    }
    origins = {args.value("origin")};
  }
  if (origins.empty()) {
    return runtimeError("no checkpoint of the audit log has been written yet (the checkpoints of v1 chains: --v1)");
  }
  std::string out;
  for (const auto& origin : origins) {
    auto size = chosenSize(store, origin, *cosigned);
    if (!size) return runtimeError(size.error().internal);
    auto note = cosignedNote(store, origin, *size);
    if (!note) return runtimeError(note.error().internal);
    out += (out.empty() ? "" : "\n") + *note;  // several logs: their notes apart by one empty line
  }
  std::cout << out;
  std::cout.flush();
  return std::cout ? 0 : runtimeError("cannot write to standard output");
}

int runAuditConsistency(const ParsedArgs& args, const ConfigSource& /*config*/, const std::string& uri) {
  if (!args.positional.empty()) return usageError("audit consistency takes no arguments besides its options");
  if (!args.has("old")) return usageError("usage: hie-node audit consistency --old SIZE [--new SIZE] [--origin ORIGIN]");
  auto oldSize = sizeOption(args, "old");
  if (!oldSize) return usageError(oldSize.error().external);
  std::optional<std::uint64_t> newSize;
  if (args.has("new")) {
    auto given = sizeOption(args, "new");
    if (!given) return usageError(given.error().external);
    newSize = *given;
  }
  if (newSize && *oldSize > *newSize) return usageError("--old must not be larger than --new");
  audit::PgAuditLogStore store(uri);
  std::string origin = args.value("origin");
  auto all = store.origins();
  if (!all) return runtimeError("cannot read the audit log: " + all.error().internal);
  if (args.has("origin") && std::find(all->begin(), all->end(), origin) == all->end()) {
    return runtimeError("this database holds no log " + shown(origin));
  }
  if (!args.has("origin")) {
    if (all->empty()) return runtimeError("no checkpoint of the audit log has been written yet");
    if (all->size() > 1) {
      std::string names;
      for (const auto& o : *all) names += (names.empty() ? "" : ", ") + shown(o);
      return usageError("this database holds several logs (" + names + "): name one with --origin");
    }
    origin = all->front();
  }
  if (!newSize) {
    auto latest = chosenSize(store, origin, 0);
    if (!latest) return runtimeError(latest.error().internal);
    newSize = *latest;
    if (*oldSize > *newSize) {
      return usageError("--old is larger than the newest checkpoint of log " + shown(origin) + " (" +
                        std::to_string(*newSize) + ")");
    }
  }
  auto note = cosignedNote(store, origin, *newSize);
  if (!note) return runtimeError(note.error().internal);
  auto source = store.hashes(origin);
  auto proof = audit::merkle::consistencyProof(*oldSize, *newSize, *source);
  if (!proof) {
    return runtimeError("cannot prove log " + shown(origin) + " consistent from size " + std::to_string(*oldSize) +
                        " to " + std::to_string(*newSize) + ": " + proof.error().internal + "; run hie-node audit verify");
  }
  std::cout << audit::consistencyText(*oldSize, *proof, *note);
  std::cout.flush();
  return std::cout ? 0 : runtimeError("cannot write to standard output");
}

}  // namespace hie::app

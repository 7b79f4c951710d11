#include "audit/audit_export.h"

#include "common/digest.h"
#include "common/hex.h"
#include "common/time.h"

namespace hie::audit {
namespace {

CanonicalObject statementObject(const ExportStatement& s) {
  return CanonicalObject{{"chain", s.range.chain},   {"chains", s.chains},         {"export", s.request.id},
                         {"first", s.range.first},   {"from", s.request.from},     {"hash", s.range.hash},
                         {"last", s.range.last},     {"prev", s.range.prev},       {"time", s.request.time},
                         {"to", s.request.to},       {"type", std::string("export")}};
}

}  // namespace

std::string ExportStatement::canonical() const { return canonicalJson(statementObject(*this)); }

std::string ExportStatement::toJson() const {
  CanonicalObject object = statementObject(*this);
  object.emplace("sig", signature);
  return canonicalJson(object);
}

ExportRequest newExportRequest(const std::string& from, const std::string& to) {
  return ExportRequest{randomHex(8), utc::nowMillis(), printableAscii(from), printableAscii(to)};
}

std::string exportSignatureInput(const std::string& canonical) { return "hie-audit-export-v1\n" + canonical; }

Result<std::vector<ExportStatement>> signExportStatements(const ExportRequest& request,
                                                          const std::vector<ExportRange>& ranges,
                                                          const SigningKey& key) {
  std::vector<ExportStatement> out;
  const auto chains = static_cast<std::int64_t>(ranges.size());
  // An export without entries still says so, signed: otherwise an emptied file would verify.
  const std::vector<ExportRange> listed = ranges.empty() ? std::vector<ExportRange>{ExportRange{}} : ranges;
  for (const auto& range : listed) {
    ExportStatement s{request, chains, range, ""};
    auto sig = key.sign(exportSignatureInput(s.canonical()));
    if (!sig) return tl::make_unexpected(sig.error());
    s.signature = std::move(*sig);
    out.push_back(std::move(s));
  }
  return out;
}

std::string exportEntryLine(const SealedEntry& e) {
  return "{\"chain\":" + canonicalString(e.chain) + ",\"entry\":" + e.canonical + ",\"hash\":" +
         canonicalString(e.hash) + ",\"prev\":" + canonicalString(e.prevHash) + ",\"seq\":" + std::to_string(e.seq) +
         ",\"sig\":" + canonicalString(e.signature) + "}";
}

}  // namespace hie::audit

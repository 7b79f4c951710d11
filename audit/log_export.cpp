#include "audit/log_export.h"

#include <cstdio>

#include "audit/canonical_form.h"
#include "audit/signed_note.h"
#include "common/time.h"

namespace hie::audit {
namespace {

CanonicalObject statementObject(const LogExportStatement& s) {
  return CanonicalObject{{"end", static_cast<std::int64_t>(s.end)},
                         {"export", s.exportId},
                         {"first", static_cast<std::int64_t>(s.first)},
                         {"from", s.from},
                         {"logs", s.logs},
                         {"origin", s.origin},
                         {"root", merkle::toBase64(s.root)},
                         {"size", static_cast<std::int64_t>(s.size)},
                         {"time", s.time},
                         {"to", s.to},
                         {"type", std::string("log-export")}};
}

int daysInMonth(std::int64_t y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

// Reads n decimal digits at text[at...]; false when they are not all digits.
bool digitsAt(const std::string& text, std::size_t at, std::size_t n, int& out) {
  if (at + n > text.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

std::string base64Lines(const std::vector<merkle::Hash>& proof) {
  std::string out;
  for (const auto& h : proof) out += merkle::toBase64(h) + "\n";
  return out;
}

}  // namespace

std::string LogExportStatement::canonical() const { return canonicalJson(statementObject(*this)); }

std::string LogExportStatement::toJson() const {
  CanonicalObject object = statementObject(*this);
  object.emplace("sig", signature);
  return canonicalJson(object);
}

std::string logExportSignatureInput(const std::string& canonical) { return "hie-audit-export-v2\n" + canonical; }

Result<bool> signStatement(LogExportStatement& statement, const SigningKey& key) {
  auto sig = key.sign(logExportSignatureInput(statement.canonical()));
  if (!sig) return tl::make_unexpected(sig.error());
  statement.signature = std::move(*sig);
  return true;
}

Result<std::string> exportTimeBound(const std::string& text, bool upper) {
  auto bad = [&text]() {
    return fail(ErrorCode::kInvalidInput, "'" + printableAscii(text, 64) +
                                              "' is not a date (YYYY-MM-DD) or an RFC 3339 date-time with Z or an offset");
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, offset = 0;
  std::int64_t micros = 0;
  if (!digitsAt(text, 0, 4, year) || text.size() < 10 || text[4] != '-' || !digitsAt(text, 5, 2, month) ||
      text[7] != '-' || !digitsAt(text, 8, 2, day) || month < 1 || month > 12 || day < 1 ||
      day > daysInMonth(year, month)) {
    return bad();
  }
  const bool dateOnly = text.size() == 10;
  if (dateOnly) {
    if (upper) {
      hour = 23;
      minute = 59;
      second = 59;
      micros = 999999;
    }
  } else {
    std::size_t at = 10;
    if (text[at] != 'T' || !digitsAt(text, 11, 2, hour) || text.size() < 16 || text[13] != ':' ||
        !digitsAt(text, 14, 2, minute) || hour > 23 || minute > 59) {
      return bad();
    }
    at = 16;
    if (at < text.size() && text[at] == ':') {
      if (!digitsAt(text, at + 1, 2, second) || second > 59) return bad();
      at += 3;
      if (at < text.size() && text[at] == '.') {
        std::size_t n = 0;
        ++at;
        while (at + n < text.size() && text[at + n] >= '0' && text[at + n] <= '9') ++n;
        if (n < 1 || n > 6) return bad();
        int fraction = 0;
        digitsAt(text, at, n, fraction);
        micros = fraction;
        for (std::size_t i = n; i < 6; ++i) micros *= 10;
        at += n;
      }
    }
    if (at < text.size() && text[at] == 'Z') {
      ++at;
    } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
      int oh = 0, om = 0;
      if (!digitsAt(text, at + 1, 2, oh) || at + 3 >= text.size() || text[at + 3] != ':' ||
          !digitsAt(text, at + 4, 2, om) || oh > 23 || om > 59) {
        return bad();
      }
      offset = (text[at] == '+' ? 1 : -1) * (oh * 60 + om);
      at += 6;
    } else {
      return bad();
    }
    if (at != text.size()) return bad();
  }
  std::int64_t millis = micros / 1000;
  if (!upper && micros % 1000 != 0) ++millis;  // a lower bound rounds up: no earlier leaf is let in
  const std::int64_t total = ((utc::daysFromCivil(year, month, day) * 24 + hour) * 60 + minute - offset) * 60000 +
                             std::int64_t{second} * 1000 + millis;
  const std::int64_t dayMs = 86400000;
  const std::int64_t days = (total >= 0 ? total : total - dayMs + 1) / dayMs;
  const std::int64_t rest = total - days * dayMs;
  const utc::CivilDate date = utc::civilFromDays(days);
  const std::int64_t y = date.year;
  const int m = date.month, d = date.day;
  if (y < 0 || y > 9999) {
    return fail(ErrorCode::kInvalidInput, "'" + text + "' is outside the years 0000-9999 in UTC");
  }
  char out[96];  // room for any int the compiler cannot rule out (-Wformat-truncation); 24 are used
  std::snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", static_cast<int>(y), m, d,
                static_cast<int>(rest / 3600000), static_cast<int>(rest / 60000 % 60),
                static_cast<int>(rest / 1000 % 60), static_cast<int>(rest % 1000));
  return std::string(out);
}

std::string tlogProof(std::uint64_t index, const std::vector<merkle::Hash>& proof, const std::string& checkpointNote) {
  return "c2sp.org/tlog-proof@v1\nindex " + std::to_string(index) + "\n" + base64Lines(proof) + "\n" + checkpointNote;
}

std::string consistencyText(std::uint64_t oldSize, const std::vector<merkle::Hash>& proof,
                            const std::string& checkpointNote) {
  return "old " + std::to_string(oldSize) + "\n" + base64Lines(proof) + "\n" + checkpointNote;
}

std::optional<std::string> exportString(const std::string& text) {
  std::string out = "\"";
  out.reserve(text.size() + 64);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c >= 0x20 && c <= 0x7E) {
      out.push_back(static_cast<char>(c));
    } else if (c == '\n') {
      out += "\\n";
    } else if (text.compare(i, note::kSignaturePrefix.size() - 1, note::kSignaturePrefix, 0,
                            note::kSignaturePrefix.size() - 1) == 0) {
      out += "\\u2014";  // the three bytes of U+2014 in UTF-8
      i += note::kSignaturePrefix.size() - 2;
    } else {
      return std::nullopt;
    }
  }
  out.push_back('"');
  return out;
}

std::optional<std::string> logExportLine(const std::string& leaf, std::uint64_t index, const std::string& proof) {
  for (unsigned char c : leaf) {
    if (c < 0x20 || c > 0x7E) return std::nullopt;
  }
  auto proofString = exportString(proof);
  if (!proofString) return std::nullopt;
  return "{\"entry\":" + leaf + ",\"index\":" + std::to_string(index) + ",\"proof\":" + *proofString + "}";
}

std::string withCosignatures(const std::string& note, const std::vector<std::string>& lines, std::size_t& dropped) {
  std::string out = note;
  dropped = 0;
  for (const auto& line : lines) {
    if (note::parseSignatureLines(line + "\n")) {
      out += line + "\n";
    } else {
      ++dropped;
    }
  }
  return out;
}

Result<merkle::Hash> ProofBlock::Levels::perfect(int level, std::uint64_t index) {
  if (level < 0 || static_cast<std::size_t>(level) >= levels.size() || index >= levels[level].size()) {
    return fail(ErrorCode::kInternal, "proof block: no subtree of level " + std::to_string(level) + " index " +
                                          std::to_string(index));
  }
  return levels[level][index];
}

Result<ProofBlock> ProofBlock::make(std::uint64_t begin, std::vector<merkle::Hash> leafHashes, std::uint64_t size,
                                    merkle::HashSource& stored) {
  if (leafHashes.empty()) return fail(ErrorCode::kInvalidInput, "proof block: no leaves");
  ProofBlock block;
  block.begin_ = begin;
  const std::uint64_t end = begin + leafHashes.size();
  auto outer = merkle::subtreeInclusionProof(begin, end, size, stored);
  if (!outer) return tl::make_unexpected(outer.error());
  block.outer_ = std::move(*outer);
  // Every perfect subtree inside the block, level by level: each hash once.
  block.inside_.levels.push_back(std::move(leafHashes));
  while (block.inside_.levels.back().size() >= 2) {
    const auto& below = block.inside_.levels.back();
    std::vector<merkle::Hash> above;
    above.reserve(below.size() / 2);
    for (std::size_t i = 0; i + 1 < below.size(); i += 2) above.push_back(merkle::nodeHash(below[i], below[i + 1]));
    block.inside_.levels.push_back(std::move(above));
  }
  return block;
}

Result<std::vector<merkle::Hash>> ProofBlock::proof(std::uint64_t index) {
  const std::uint64_t count = inside_.levels.front().size();
  if (index < begin_ || index >= begin_ + count) {
    return fail(ErrorCode::kInvalidInput, "proof block: leaf " + std::to_string(index) + " is not in the block");
  }
  auto path = merkle::inclusionProof(index - begin_, count, inside_);
  if (!path) return path;
  path->insert(path->end(), outer_.begin(), outer_.end());
  return path;
}

}  // namespace hie::audit

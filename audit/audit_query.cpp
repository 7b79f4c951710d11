#include "audit/audit_query.h"

#include <cstdio>
#include <optional>

#include "audit/merkle.h"
#include "common/time.h"

namespace hie::audit {
namespace {

// A date filter as written: the fields of YYYY-MM-DD[Thh:mm[:ss[.f{1,6}]](Z|+hh:mm|-hh:mm)].
struct WrittenTime {
  int year = 0, month = 0, day = 0;
  bool hasTime = false;
  int hour = 0, minute = 0, second = 0;
  std::int64_t micros = 0;  // the fraction, in microseconds
  int offsetSign = 1;       // east of UTC (+) or west (-)
  int offsetHours = 0, offsetMinutes = 0;
};

// Parses by hand (no std::regex on what a caller sends); only the syntax, not the calendar.
std::optional<WrittenTime> parseWritten(const std::string& text) {
  std::size_t at = 0;
  auto number = [&](std::size_t digits, int& out) {
    if (at + digits > text.size()) return false;
    out = 0;
    for (std::size_t i = 0; i < digits; ++i) {
      const char c = text[at + i];
      if (c < '0' || c > '9') return false;
      out = out * 10 + (c - '0');
    }
    at += digits;
    return true;
  };
  auto literal = [&](char c) {
    if (at >= text.size() || text[at] != c) return false;
    ++at;
    return true;
  };
  WrittenTime t;
  if (text.size() > 40 || !number(4, t.year) || !literal('-') || !number(2, t.month) || !literal('-') ||
      !number(2, t.day)) {
    return std::nullopt;
  }
  if (at == text.size()) return t;
  t.hasTime = true;
  if (!literal('T') || !number(2, t.hour) || !literal(':') || !number(2, t.minute)) return std::nullopt;
  if (literal(':')) {
    if (!number(2, t.second)) return std::nullopt;
    if (literal('.')) {
      std::size_t digits = 0;
      while (at < text.size() && text[at] >= '0' && text[at] <= '9' && digits < 6) {
        t.micros = t.micros * 10 + (text[at] - '0');
        ++at;
        ++digits;
      }
      if (digits == 0) return std::nullopt;
      for (std::size_t i = digits; i < 6; ++i) t.micros *= 10;
    }
  }
  if (literal('Z')) return at == text.size() ? std::optional<WrittenTime>(t) : std::nullopt;
  if (at >= text.size() || (text[at] != '+' && text[at] != '-')) return std::nullopt;
  t.offsetSign = text[at++] == '+' ? 1 : -1;
  if (!number(2, t.offsetHours) || !literal(':') || !number(2, t.offsetMinutes) || at != text.size()) {
    return std::nullopt;
  }
  return t;
}

bool leapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int daysInMonth(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leapYear(y) ? 29 : kDays[m - 1];
}

}  // namespace

bool isAuditTime(const std::string& text) { return parseWritten(text).has_value(); }

Result<std::string> auditTimeBound(const std::string& text, TimeBound bound) {
  auto invalid = [&text](const char* why) {
    return fail(ErrorCode::kInvalidInput, "date filter " + text + ": " + why, "Invalid date.");
  };
  const auto t = parseWritten(text);
  if (!t) return invalid("not YYYY-MM-DD or an RFC 3339 date-time");
  if (t->year < 1 || t->month < 1 || t->month > 12 || t->day < 1 || t->day > daysInMonth(t->year, t->month)) {
    return invalid("no such date");
  }
  // 24:00:00 (the end of the day) and a leap second :60 are accepted as PostgreSQL accepts them.
  const bool endOfDay = t->hour == 24 && t->minute == 0 && t->second == 0 && t->micros == 0;
  if ((t->hour > 23 && !endOfDay) || t->minute > 59 || t->second > 60 || t->offsetHours > 23 || t->offsetMinutes > 59) {
    return invalid("no such time");
  }
  constexpr std::int64_t kMicrosPerDay = 86400LL * 1000000;
  const std::int64_t day = utc::daysFromCivil(t->year, t->month, t->day);
  std::int64_t micros = day * kMicrosPerDay;
  if (!t->hasTime) {
    if (bound == TimeBound::kTo) micros += kMicrosPerDay - 1;
  } else {
    const std::int64_t offset = t->offsetSign * (t->offsetHours * 60LL + t->offsetMinutes);
    micros += ((t->hour * 60LL + t->minute - offset) * 60 + t->second) * 1000000 + t->micros;
  }
  // Entry times have milliseconds: round inwards, so that the text comparison is the exact one.
  const std::int64_t ms = bound == TimeBound::kFrom ? -utc::floorDiv(-micros, 1000) : utc::floorDiv(micros, 1000);
  const std::int64_t days = utc::floorDiv(ms, 86400000);
  const utc::CivilDate date = utc::civilFromDays(days);
  const std::int64_t year = date.year;
  const int month = date.month, dayOfMonth = date.day;
  if (year < 1 || year > 9999) return invalid("outside the years 0001-9999 in UTC");
  const std::int64_t inDay = ms - days * 86400000;
  char out[64];  // 24 used; room for what the compiler cannot rule out
  std::snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", static_cast<int>(year), month, dayOfMonth,
                static_cast<int>(inDay / 3600000), static_cast<int>(inDay / 60000 % 60),
                static_cast<int>(inDay / 1000 % 60), static_cast<int>(inDay % 1000));
  return std::string(out);
}

std::string TrailEntry::name() const {
  return (format == Format::kChain ? "audit entry " : "audit log entry ") + log + " #" + std::to_string(position);
}

TrailEntry TrailEntry::fromChain(const SealedEntry& entry) {
  return TrailEntry{Format::kChain, entry.chain, entry.seq, entry.hash, entry.canonical};
}

TrailEntry TrailEntry::fromLeaf(const std::string& origin, std::int64_t index, const std::string& leaf) {
  return TrailEntry{Format::kLog, origin, index, merkle::toHex(merkle::leafHash(leaf)), leaf};
}

}  // namespace hie::audit

// The date filters of the audit reader: which texts are accepted (isAuditTime), and
// each bound as the instant an entry's `time` is compared with (auditTimeBound).
#include "audit/audit_query.h"

#include <gtest/gtest.h>

namespace hie::audit {
namespace {

TEST(AuditTime, AcceptsDatesAndRfc3339DateTimesOnly) {
  for (const char* ok : {"2026-11-26", "2026-11-26T10:00Z", "2026-11-26T10:00:05Z", "2026-11-26T10:00:05.1Z",
                         "2026-11-26T10:00:05.123456Z", "2026-11-26T10:00:05+01:00", "2026-11-26T10:00-05:30",
                         "2026-13-99"}) {  // the syntax only: auditTimeBound checks the calendar
    EXPECT_TRUE(isAuditTime(ok)) << ok;
  }
  for (const char* bad : {"", "2026-1-26", "2026-11-26T", "2026-11-26T10Z", "2026-11-26T10:00", "2026-11-26 10:00Z",
                          "2026-11-26T10:00:05.Z", "2026-11-26T10:00:05.1234567Z", "2026-11-26T10:00:05z",
                          "2026-11-26T10:00:05+0100", "2026-11-26T10:00:05+01:00 ", "2026-11-26Z", "x2026-11-26",
                          "2026-11-26T10:00:05ZZ", "２０２６-11-26"}) {
    EXPECT_FALSE(isAuditTime(bad)) << bad;
  }
  EXPECT_FALSE(isAuditTime(std::string(4 << 20, '1')));
}

TEST(AuditTime, BoundsBecomeEntryTimesInUtcWithMilliseconds) {
  struct Case {
    const char* text;
    TimeBound bound;
    const char* expected;
  };
  const std::vector<Case> cases{
      // A date alone: its first millisecond as a lower bound, its last as an upper one.
      {"2026-11-26", TimeBound::kFrom, "2026-11-26T00:00:00.000Z"},
      {"2026-11-26", TimeBound::kTo, "2026-11-26T23:59:59.999Z"},
      {"2026-11-26T10:00Z", TimeBound::kFrom, "2026-11-26T10:00:00.000Z"},
      {"2026-11-26T10:00:05Z", TimeBound::kTo, "2026-11-26T10:00:05.000Z"},
      {"2026-11-26T10:00:05.1Z", TimeBound::kFrom, "2026-11-26T10:00:05.100Z"},
      {"2026-11-26T10:00:05.123Z", TimeBound::kTo, "2026-11-26T10:00:05.123Z"},
      // Finer than a millisecond: inwards, so that ">= from" and "<= to" stay exact on millisecond times.
      {"2026-11-26T10:00:05.1231Z", TimeBound::kFrom, "2026-11-26T10:00:05.124Z"},
      {"2026-11-26T10:00:05.1239Z", TimeBound::kTo, "2026-11-26T10:00:05.123Z"},
      {"2026-11-26T23:59:59.9999Z", TimeBound::kFrom, "2026-11-27T00:00:00.000Z"},
      // Offsets to UTC, across days, months and years.
      {"2026-11-26T10:00:00+01:00", TimeBound::kFrom, "2026-11-26T09:00:00.000Z"},
      {"2026-11-26T20:30:00-05:30", TimeBound::kTo, "2026-11-27T02:00:00.000Z"},
      {"2026-01-01T00:30:00+01:00", TimeBound::kFrom, "2025-12-31T23:30:00.000Z"},
      {"2024-02-28T23:00:00-02:00", TimeBound::kFrom, "2024-02-29T01:00:00.000Z"},
      {"2024-02-29", TimeBound::kTo, "2024-02-29T23:59:59.999Z"},
      // What PostgreSQL accepted before: the end of a day as 24:00, a leap second.
      {"2026-11-26T24:00:00Z", TimeBound::kTo, "2026-11-27T00:00:00.000Z"},
      {"2026-12-31T23:59:60Z", TimeBound::kFrom, "2027-01-01T00:00:00.000Z"},
      {"0001-01-01", TimeBound::kFrom, "0001-01-01T00:00:00.000Z"},
      {"9999-12-31", TimeBound::kTo, "9999-12-31T23:59:59.999Z"},
  };
  for (const auto& c : cases) {
    auto got = auditTimeBound(c.text, c.bound);
    ASSERT_TRUE(got) << c.text << ": " << got.error().internal;
    EXPECT_EQ(*got, c.expected) << c.text;
  }
}

TEST(AuditTime, ImpossibleDatesAndTimesAreInvalidInput) {
  for (const char* bad : {"2026-13-01", "2026-00-10", "2026-11-00", "2026-11-31", "2026-02-29", "1900-02-29",
                          "2026-13-99", "0000-01-01", "2026-11-26T25:00Z", "2026-11-26T24:00:01Z",
                          "2026-11-26T10:60Z", "2026-11-26T10:00:61Z", "2026-11-26T10:00:00+24:00",
                          "2026-11-26T10:00:00+01:60", "0001-01-01T00:00:00+00:01",
                          "9999-12-31T23:59:59-00:01", "not a date"}) {
    auto got = auditTimeBound(bad, TimeBound::kFrom);
    ASSERT_FALSE(got) << bad << " gave " << *got;
    EXPECT_EQ(got.error().code, ErrorCode::kInvalidInput) << bad;
    EXPECT_EQ(got.error().external, "Invalid date.") << bad;
  }
  EXPECT_TRUE(auditTimeBound("2000-02-29", TimeBound::kFrom));  // divisible by 400: a leap year
}

}  // namespace
}  // namespace hie::audit

// UTC time as text (RFC 3339 / ISO 8601): the one place that formats it.
#pragma once

#include <cstdint>
#include <string>

namespace hie::utc {

// Now, to the millisecond: 2026-11-26T18:52:19.123Z
std::string nowMillis();
// A time in whole seconds since the epoch: 2026-11-26T18:52:19Z
std::string fromEpoch(std::int64_t seconds);
// Today's date: 2026-11-26
std::string today();

// A proleptic Gregorian date (month 1-12, day 1-31).
struct CivilDate {
  std::int64_t year = 1970;
  int month = 1;
  int day = 1;
};
// Days since 1970-01-01 of a date, and back (H. Hinnant's days_from_civil / civil_from_days): exact for
// any year, negative days before 1970. The one copy: every date computation of the node uses these.
std::int64_t daysFromCivil(std::int64_t year, int month, int day);
CivilDate civilFromDays(std::int64_t days);
// a / b rounded towards negative infinity (b != 0): the day of an instant before 1970 is negative.
std::int64_t floorDiv(std::int64_t a, std::int64_t b);

}  // namespace hie::utc

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

}  // namespace hie::utc

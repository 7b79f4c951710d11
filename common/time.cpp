#include "common/time.h"

#include <Poco/DateTimeFormatter.h>
#include <Poco/Timestamp.h>

namespace hie::utc {

std::string nowMillis() { return Poco::DateTimeFormatter::format(Poco::Timestamp(), "%Y-%m-%dT%H:%M:%S.%iZ"); }

std::string fromEpoch(std::int64_t seconds) {
  return Poco::DateTimeFormatter::format(Poco::Timestamp::fromEpochTime(static_cast<std::time_t>(seconds)),
                                         "%Y-%m-%dT%H:%M:%SZ");
}

std::string today() { return Poco::DateTimeFormatter::format(Poco::Timestamp(), "%Y-%m-%d"); }

}  // namespace hie::utc

#include "audit/audit_query.h"

#include <regex>
#include <set>

namespace hie::audit {

bool isAuditTime(const std::string& text) {
  static const std::regex kTime(
      R"(\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?)");
  return text.size() <= 40 && std::regex_match(text, kTime);
}

}  // namespace hie::audit

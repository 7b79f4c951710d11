#include "audit/audit_query.h"

#include <regex>
#include <set>

namespace hie::audit {

bool isAuditTime(const std::string& text) {
  static const std::regex kTime(
      R"(\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?)");
  return text.size() <= 40 && std::regex_match(text, kTime);
}

bool isTreatmentPaymentOrOperations(const std::string& purpose) {
  static const std::set<std::string> kTpo = {"TREAT",    "ETREAT",   "CAREMGT", "HPAYMT",  "CLMATTCH", "COVAUTH",
                                             "COVERAGE", "ELIGDTRM", "ELIGVER", "ENROLLM", "REMITADV", "HOPERAT",
                                             "HACCRED",  "HCOMPL",   "HDIRECT", "HQUALIMP"};
  return kTpo.count(purpose) != 0;
}

}  // namespace hie::audit

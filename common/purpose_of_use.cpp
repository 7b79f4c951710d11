#include "common/purpose_of_use.h"

#include <algorithm>
#include <set>

namespace hie::purpose {

const std::vector<std::string>& treatmentPaymentOrOperations() {
  static const std::vector<std::string> kTpo = {"TREAT",    "ETREAT",   "CAREMGT", "HPAYMT",  "CLMATTCH", "COVAUTH",
                                                "COVERAGE", "ELIGDTRM", "ELIGVER", "ENROLLM", "REMITADV", "HOPERAT",
                                                "HACCRED",  "HCOMPL",   "HDIRECT", "HQUALIMP"};
  return kTpo;
}

bool isTreatmentPaymentOrOperations(const std::string& code) {
  const auto& tpo = treatmentPaymentOrOperations();
  return std::find(tpo.begin(), tpo.end(), code) != tpo.end();
}

bool isKnown(const std::string& code) {
  // The treatment, payment and operations codes, and the other codes an exchange uses.
  static const std::set<std::string> kOther = {
      "BTG",      "ERTREAT",   "CLINTRCH", "CLINTRL", "POPHLTH",  "HLEGAL",   "HMARKT",   "HSYSADMIN",
      "PATADMIN", "RECORDMGT", "HRESCH",   "PATRQT",  "FAMRQT",   "PWATRNY",  "SUPNWK",   "PUBHLTH",
      "DISASTER", "THREAT",    "TRAIN",    "HTEST",   "SYSDEV",   "HPRGRP",   "LABELING", "METAMGT",
      "DECEASED", "DONAT",     "FRAUD",    "GOV",     "LAW",      "LEGAL",    "MILITARY", "REFUSAL",
      "PERFORMANCE"};
  return isTreatmentPaymentOrOperations(code) || kOther.count(code) != 0;
}

}  // namespace hie::purpose

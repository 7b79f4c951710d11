// The HL7 v3 PurposeOfUse vocabulary (2.16.840.1.113883.1.11.20448) as this
// node uses it: which codes it knows, and which of them are treatment,
// payment or operations (left out of HIPAA's accounting of disclosures).
#pragma once

#include <string>
#include <vector>

namespace hie::purpose {

constexpr const char* kTreatment = "TREAT";
constexpr const char* kEmergencyTreatment = "ETREAT";

// True for a code this node knows (TREAT, ETREAT, HPAYMT, ...). Case-sensitive.
bool isKnown(const std::string& code);
// True for a treatment, payment or operations code.
bool isTreatmentPaymentOrOperations(const std::string& code);
// The treatment, payment and operations codes, in a fixed order.
const std::vector<std::string>& treatmentPaymentOrOperations();

}  // namespace hie::purpose

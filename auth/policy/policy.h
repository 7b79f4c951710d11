// Authorization: a pure function from (organization, action, resource type,
// purpose of use, patient consent, node settings) to permit/deny with a
// reason. Default deny. No I/O.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "auth/registry/organization.h"
#include "common/purpose_of_use.h"

namespace hie::auth {

enum class Action { kRead, kSearch };

const char* actionName(Action action);
bool parseAction(const std::string& text, Action& out);

constexpr const char* kEmergencyTreatment = purpose::kEmergencyTreatment;

// One organization may do `actions` on `resourceTypes` for `purposes`.
struct Grant {
  long long id = 0;
  std::string organization;  // identifier
  std::set<std::string> resourceTypes;
  std::set<Action> actions;
  std::set<std::string> purposes;
};

struct PatientConsent {
  bool optedOut = false;
  std::set<std::string> deniedOrganizations;  // identifiers
};

enum class DecisionReason {
  kPermitted,
  kPermittedBreakGlass,          // ETREAT over an opt-out, allowed by node configuration
  kOrganizationNotActive,
  kRoleNotAllowed,               // no member or local role
  kUnknownPurpose,
  kNoGrant,                      // no grant covers type + action + purpose
  kPatientOptedOut,
  kPatientDeniedOrganization,
  kPurposeNotForWrites,          // a write whose purpose of use is not in records.writePurposes
};

const char* decisionReasonName(DecisionReason reason);

struct AccessDecision {
  bool permit = false;
  DecisionReason reason = DecisionReason::kNoGrant;
  bool breakGlass = false;
};

struct AccessQuestion {
  const Organization* organization = nullptr;
  Action action = Action::kRead;
  std::string resourceType;
  std::string purpose;
  const std::vector<Grant>* grants = nullptr;  // that organization's active grants
};

struct PolicySettings {
  bool breakGlass = false;  // policy.breakGlass: ETREAT may override an opt-out
};

// Everything except the patient: organization, role, purpose, grants.
AccessDecision decideForOrganization(const AccessQuestion& question);

// The purposes of use a write is accepted for by default (records.writePurposes): the
// institution's own operations, patient administration, records management and treatment.
const std::set<std::string>& defaultWritePurposes();

// A write through the FHIR API: only an active organization with the role local (the
// institution's own systems), for a purpose in writePurposes. Consent does not apply: a patient's
// choices govern who reads the records, not whether the institution keeps them current.
AccessDecision decideWrite(const Organization* organization, const std::string& purpose,
                           const std::set<std::string>& writePurposes);

// The full decision for one patient; consent == nullptr means no consent on record.
AccessDecision decide(const AccessQuestion& question, const PatientConsent* consent, const PolicySettings& settings);

}  // namespace hie::auth

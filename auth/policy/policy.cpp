#include "auth/policy/policy.h"

#include "common/purpose_of_use.h"

namespace hie::auth {

const char* actionName(Action action) { return action == Action::kRead ? "read" : "search"; }

bool parseAction(const std::string& text, Action& out) {
  if (text == "read") out = Action::kRead;
  else if (text == "search") out = Action::kSearch;
  else return false;
  return true;
}

const char* decisionReasonName(DecisionReason reason) {
  switch (reason) {
    case DecisionReason::kPermitted: return "permitted";
    case DecisionReason::kPermittedBreakGlass: return "permitted_break_glass";
    case DecisionReason::kOrganizationNotActive: return "organization_not_active";
    case DecisionReason::kRoleNotAllowed: return "role_not_allowed";
    case DecisionReason::kUnknownPurpose: return "unknown_purpose";
    case DecisionReason::kNoGrant: return "no_grant";
    case DecisionReason::kPatientOptedOut: return "patient_opted_out";
    case DecisionReason::kPatientDeniedOrganization: return "patient_denied_organization";
    case DecisionReason::kPurposeNotForWrites: return "purpose_not_for_writes";
  }
  return "no_grant";
}

namespace {

AccessDecision deny(DecisionReason reason) { return AccessDecision{false, reason, false}; }

}  // namespace

AccessDecision decideForOrganization(const AccessQuestion& q) {
  if (q.organization == nullptr || q.organization->status != OrganizationStatus::kActive) {
    return deny(DecisionReason::kOrganizationNotActive);
  }
  if (!q.organization->hasRole(Role::kMember) && !q.organization->hasRole(Role::kLocal)) {
    return deny(DecisionReason::kRoleNotAllowed);
  }
  if (!purpose::isKnown(q.purpose)) return deny(DecisionReason::kUnknownPurpose);
  if (q.grants != nullptr) {
    for (const Grant& g : *q.grants) {
      if (g.organization == q.organization->identifier && g.actions.count(q.action) &&
          g.resourceTypes.count(q.resourceType) && g.purposes.count(q.purpose)) {
        return AccessDecision{true, DecisionReason::kPermitted, false};
      }
    }
  }
  return deny(DecisionReason::kNoGrant);
}

const std::set<std::string>& defaultWritePurposes() {
  static const std::set<std::string> kPurposes = {"HOPERAT", "PATADMIN", "RECORDMGT", "TREAT", "ETREAT"};
  return kPurposes;
}

AccessDecision decideWrite(const Organization* organization, const std::string& purpose,
                           const std::set<std::string>& writePurposes) {
  if (organization == nullptr || organization->status != OrganizationStatus::kActive) {
    return deny(DecisionReason::kOrganizationNotActive);
  }
  if (!organization->hasRole(Role::kLocal)) return deny(DecisionReason::kRoleNotAllowed);
  if (!purpose::isKnown(purpose)) return deny(DecisionReason::kUnknownPurpose);
  if (writePurposes.count(purpose) == 0) return deny(DecisionReason::kPurposeNotForWrites);
  return AccessDecision{true, DecisionReason::kPermitted, false};
}

AccessDecision decide(const AccessQuestion& q, const PatientConsent* consent, const PolicySettings& settings) {
  AccessDecision org = decideForOrganization(q);
  if (!org.permit || consent == nullptr) return org;
  // A patient's refusal of one organization is never overridden, not even in an emergency.
  if (consent->deniedOrganizations.count(q.organization->identifier)) {
    return deny(DecisionReason::kPatientDeniedOrganization);
  }
  if (consent->optedOut) {
    if (settings.breakGlass && q.purpose == kEmergencyTreatment) {
      return AccessDecision{true, DecisionReason::kPermittedBreakGlass, true};
    }
    return deny(DecisionReason::kPatientOptedOut);
  }
  return org;
}

}  // namespace hie::auth

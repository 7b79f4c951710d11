// Everything the request path needs to decide who is who and who may see
// what: organizations with pins, active grants, patient consent. Immutable
// once built; replaced as a whole when the database changes.
#pragma once

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/organization.h"
#include "auth/policy.h"

namespace hie::auth {

struct RegistrySnapshot {
  std::vector<Organization> organizations;
  std::map<std::string, std::vector<Grant>> grantsByOrganization;  // identifier -> active grants
  std::unordered_map<std::string, PatientConsent> consents;         // patient id -> consent

  const std::vector<Grant>& grantsOf(const std::string& identifier) const;
  const PatientConsent* consentOf(const std::string& patientId) const;  // nullptr when none recorded
};

}  // namespace hie::auth

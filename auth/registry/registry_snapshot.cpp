#include "auth/registry/registry_snapshot.h"

namespace hie::auth {

const std::vector<Grant>& RegistrySnapshot::grantsOf(const std::string& identifier) const {
  static const std::vector<Grant> kNone;
  auto it = grantsByOrganization.find(identifier);
  return it == grantsByOrganization.end() ? kNone : it->second;
}

const Organization* RegistrySnapshot::organization(const std::string& identifier) const {
  for (const auto& o : organizations) {
    if (o.identifier == identifier) return &o;
  }
  return nullptr;
}

const PatientConsent* RegistrySnapshot::consentOf(const std::string& patientId) const {
  auto it = consents.find(patientId);
  return it == consents.end() ? nullptr : &it->second;
}

}  // namespace hie::auth

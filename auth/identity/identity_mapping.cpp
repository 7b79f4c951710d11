#include "auth/identity/identity_mapping.h"

#include <algorithm>

namespace hie::auth {

const char* mappingOutcomeName(MappingOutcome outcome) {
  switch (outcome) {
    case MappingOutcome::kAdmitted: return "admitted";
    case MappingOutcome::kUnknown: return "unknown_organization";
    case MappingOutcome::kAmbiguous: return "ambiguous_identity";
    case MappingOutcome::kSuspended: return "suspended_organization";
  }
  return "unknown_organization";
}

IdentityMapping mapIdentity(const PeerIdentity& peer, const std::vector<Organization>& organizations) {
  std::vector<std::string> uris;
  uris.reserve(peer.sanUris.size());
  for (const auto& uri : peer.sanUris) uris.push_back(canonicalUri(uri));

  IdentityMapping result;
  for (const auto& org : organizations) {
    const bool bySan = std::find(uris.begin(), uris.end(), org.identifier) != uris.end();
    const bool byPin = !peer.certSha256.empty() &&
                       std::find(org.pinnedSha256.begin(), org.pinnedSha256.end(), peer.certSha256) !=
                           org.pinnedSha256.end();
    if (bySan || byPin) {
      result.matched.push_back(org.identifier);
      result.organization = &org;
    }
  }
  if (result.matched.empty()) {
    result.outcome = MappingOutcome::kUnknown;
  } else if (result.matched.size() > 1) {
    result.outcome = MappingOutcome::kAmbiguous;
    result.organization = nullptr;
  } else {
    result.outcome = result.organization->status == OrganizationStatus::kActive ? MappingOutcome::kAdmitted
                                                                                  : MappingOutcome::kSuspended;
  }
  return result;
}

}  // namespace hie::auth

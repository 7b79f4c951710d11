// Maps a verified certificate's identity to a registered organization by the
// identity rules: a SAN URI equal to the identifier, or a pinned SHA-256
// fingerprint. Nothing else maps (not CN, not subject O). Pure function.
#pragma once

#include <string>
#include <vector>

#include "auth/identity/peer_identity.h"
#include "auth/registry/organization.h"

namespace hie::auth {

enum class MappingOutcome {
  kAdmitted,      // exactly one organization, active
  kUnknown,       // no organization matched
  kAmbiguous,     // more than one organization matched (SAN URIs and/or pins)
  kSuspended,     // exactly one organization, suspended
};

struct IdentityMapping {
  MappingOutcome outcome = MappingOutcome::kUnknown;
  const Organization* organization = nullptr;  // borrowed from the input; set for kAdmitted and kSuspended
  std::vector<std::string> matched;            // identifiers of every organization that matched
};

const char* mappingOutcomeName(MappingOutcome outcome);

IdentityMapping mapIdentity(const PeerIdentity& peer, const std::vector<Organization>& organizations);

}  // namespace hie::auth

// A member of the exchange, as registered on this node. Pure data.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "auth/signatures/signature_policy.h"

namespace hie::auth {

enum class OrganizationStatus { kActive, kSuspended };
enum class Role { kMember, kAuditor, kLocal };

struct Organization {
  std::string identifier;               // urn:oid:… (the ID on the command line)
  std::string name;
  OrganizationStatus status = OrganizationStatus::kActive;
  std::vector<Role> roles;
  std::vector<std::string> pinnedSha256; // lowercase hex certificate fingerprints
  std::optional<SignaturePolicy> signaturePolicy;  // signatures on its requests and answers; none = the node's

  bool hasRole(Role role) const;
};

const char* statusName(OrganizationStatus status);
const char* roleName(Role role);
// Parses "member", "auditor", "local"; false for anything else.
bool parseRole(const std::string& text, Role& out);
bool parseStatus(const std::string& text, OrganizationStatus& out);

// True for "urn:oid:" followed by a dotted OID (first arc 0-2, no leading zeros).
bool isValidOrganizationIdentifier(const std::string& identifier);

// Lowercases the case-insensitive "urn:oid:" prefix of a URI so that SAN URIs
// compare equal to registered identifiers; other URIs are returned unchanged.
std::string canonicalUri(const std::string& uri);

}  // namespace hie::auth

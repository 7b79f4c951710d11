#include "auth/registry/organization.h"

#include <algorithm>
#include <cctype>

namespace hie::auth {

bool Organization::hasRole(Role role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

const char* statusName(OrganizationStatus status) {
  return status == OrganizationStatus::kActive ? "active" : "suspended";
}

const char* roleName(Role role) {
  switch (role) {
    case Role::kMember: return "member";
    case Role::kAuditor: return "auditor";
    case Role::kLocal: return "local";
  }
  return "member";
}

bool parseRole(const std::string& text, Role& out) {
  if (text == "member") out = Role::kMember;
  else if (text == "auditor") out = Role::kAuditor;
  else if (text == "local") out = Role::kLocal;
  else return false;
  return true;
}

bool parseStatus(const std::string& text, OrganizationStatus& out) {
  if (text == "active") out = OrganizationStatus::kActive;
  else if (text == "suspended") out = OrganizationStatus::kSuspended;
  else return false;
  return true;
}

bool isValidOrganizationIdentifier(const std::string& identifier) {
  static const std::string kPrefix = "urn:oid:";
  if (identifier.size() > 256 || identifier.compare(0, kPrefix.size(), kPrefix) != 0) return false;
  const std::string oid = identifier.substr(kPrefix.size());
  // arcs: digits separated by single dots; at least two arcs; no leading zeros.
  std::size_t arcs = 0;
  std::size_t pos = 0;
  while (pos <= oid.size()) {
    std::size_t end = oid.find('.', pos);
    if (end == std::string::npos) end = oid.size();
    const std::string arc = oid.substr(pos, end - pos);
    if (arc.empty() || arc.size() > 20) return false;
    if (!std::all_of(arc.begin(), arc.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) return false;
    if (arc.size() > 1 && arc[0] == '0') return false;
    if (arcs == 0 && (arc.size() != 1 || arc[0] > '2')) return false;
    ++arcs;
    pos = end + 1;
  }
  return arcs >= 2;
}

std::string canonicalUri(const std::string& uri) {
  static const std::string kPrefix = "urn:oid:";
  if (uri.size() < kPrefix.size()) return uri;
  for (std::size_t i = 0; i < kPrefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(uri[i])) != kPrefix[i]) return uri;
  }
  return kPrefix + uri.substr(kPrefix.size());
}

}  // namespace hie::auth

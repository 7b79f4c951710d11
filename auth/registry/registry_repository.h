// The registry in PostgreSQL: organizations, certificate pins, grants and
// patient consent. Owns one connection, opened lazily and reopened after it
// breaks. Not thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/identity/peer_identity.h"
#include "auth/policy/policy.h"
#include "auth/registry/organization.h"
#include "auth/registry/organization_registry.h"
#include "common/result.h"


namespace hie::db {
class Session;
}

namespace hie::auth {

class RegistryRepository : public OrganizationSource {
 public:
  explicit RegistryRepository(std::string dbUri);
  ~RegistryRepository() override;

  Result<std::int64_t> generation() override;
  Result<RegistrySnapshot> loadAll() override;

  // kConflict when the identifier exists or the pinned certificate belongs to another organization.
  Result<Organization> add(const Organization& org, const std::optional<PeerIdentity>& pin);
  // kNotFound for an unknown identifier. Returns false when the status was already that.
  Result<bool> setStatus(const std::string& identifier, OrganizationStatus status);
  // Sets (or, with nullopt, clears: the node's settings apply) whether the organization's requests
  // and its node's answers must be signed. kNotFound for an unknown identifier; false when unchanged.
  Result<bool> setSignaturePolicy(const std::string& identifier, const std::optional<SignaturePolicy>& policy);
  // kNotFound for an unknown organization, kConflict when pinned to another one.
  // Returns false when the pin already existed for this organization.
  Result<bool> pin(const std::string& identifier, const PeerIdentity& certificate);

  // kNotFound for an unknown organization. Returns the new grant with its id.
  Result<Grant> addGrant(const Grant& grant);
  // Active grants, of one organization when identifier is not empty.
  Result<std::vector<Grant>> listGrants(const std::string& identifier);
  // kNotFound when no active grant has that id.
  Result<bool> revokeGrant(long long id);

  // Consent changes; kNotFound for an unknown organization. Returns false
  // when nothing changed.
  Result<bool> optOut(const std::string& patientId);
  Result<bool> denyOrganization(const std::string& patientId, const std::string& identifier);
  Result<bool> clearConsent(const std::string& patientId);
  // Peer directory: sets (or changes) where an organization's node answers and, when given, its
  // log and witness verifier keys (checked by the caller; a key not given stays as it was) and how
  // this node authenticates to it ("mtls" or "udap"; not given: a new entry gets "mtls", an
  // existing one keeps its own);
  // false when all of it was already that. kNotFound for an unknown organization, kConflict when
  // another peer already has a key of the same name (log origin or witness name).
  Result<bool> setPeer(const std::string& identifier, const std::string& baseUrl,
                       const std::optional<std::string>& logKey = std::nullopt,
                       const std::optional<std::string>& witnessKey = std::nullopt,
                       const std::optional<std::string>& auth = std::nullopt);
  Result<bool> removePeer(const std::string& identifier);

  // True when the record store holds this patient.
  Result<bool> patientExists(const std::string& patientId);

 private:
  std::unique_ptr<db::Session> session_;
};

}  // namespace hie::auth

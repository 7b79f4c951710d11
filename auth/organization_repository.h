// Organizations and certificate pins in PostgreSQL. Owns one connection,
// opened lazily and reopened after it breaks. Not thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/connection>

#include "auth/organization.h"
#include "auth/organization_registry.h"
#include "auth/peer_identity.h"
#include "common/result.h"


namespace hie::auth {

class OrganizationRepository : public OrganizationSource {
 public:
  explicit OrganizationRepository(std::string dbUri);
  ~OrganizationRepository() override;

  Result<std::int64_t> generation() override;
  Result<std::vector<Organization>> loadAll() override;

  // kConflict when the identifier exists or the pinned certificate belongs to another organization.
  Result<Organization> add(const Organization& org, const std::optional<PeerIdentity>& pin);
  // kNotFound for an unknown identifier. Returns false when the status was already that.
  Result<bool> setStatus(const std::string& identifier, OrganizationStatus status);
  // kNotFound for an unknown organization, kConflict when pinned to another one.
  // Returns false when the pin already existed for this organization.
  Result<bool> pin(const std::string& identifier, const PeerIdentity& certificate);

 private:
  Result<pqxx::connection*> connection();
  template <class F>
  auto guarded(const char* what, F&& body) -> decltype(body(std::declval<pqxx::connection&>()));

  std::string dbUri_;
  std::unique_ptr<pqxx::connection> conn_;
};

}  // namespace hie::auth

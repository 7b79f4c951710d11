#include "auth/organization_repository.h"

#include <map>
#include <sstream>

#include <pqxx/pqxx>

#include "db/connection.h"

namespace hie::auth {
namespace {

std::string joinRoles(const std::vector<Role>& roles) {
  std::string out = "{";
  for (std::size_t i = 0; i < roles.size(); ++i) {
    if (i) out += ",";
    out += roleName(roles[i]);
  }
  return out + "}";
}

std::vector<Role> splitRoles(const std::string& csv) {
  std::vector<Role> roles;
  std::stringstream in(csv);
  std::string item;
  while (std::getline(in, item, ',')) {
    Role r;
    if (parseRole(item, r)) roles.push_back(r);
  }
  return roles;
}

Error pinConflict(const std::string& owner) {
  return Error{ErrorCode::kConflict, "certificate already pinned to " + owner,
               "that certificate is already pinned to organization " + owner};
}

}  // namespace

OrganizationRepository::OrganizationRepository(std::string dbUri) : dbUri_(std::move(dbUri)) {}
OrganizationRepository::~OrganizationRepository() = default;

Result<pqxx::connection*> OrganizationRepository::connection() {
  if (conn_ && conn_->is_open()) return conn_.get();
  auto fresh = db::connect(dbUri_);
  if (!fresh) return tl::make_unexpected(fresh.error());
  conn_ = std::move(*fresh);
  return conn_.get();
}

template <class F>
auto OrganizationRepository::guarded(const char* what, F&& body) -> decltype(body(std::declval<pqxx::connection&>())) {
  auto conn = connection();
  if (!conn) return tl::make_unexpected(conn.error());
  try {
    return body(**conn);
  } catch (const pqxx::broken_connection& e) {
    conn_.reset();
    return fail(ErrorCode::kUnavailable, std::string(what) + ": lost the database connection: " + e.what(),
                "database unavailable");
  } catch (const pqxx::undefined_table& e) {
    return fail(ErrorCode::kUnavailable, std::string(what) + ": " + e.what(),
                "the database has no hie-node schema; run `hie-node migrate` first");
  } catch (const std::exception& e) {
    return fail(ErrorCode::kInternal, std::string(what) + ": " + e.what(), "internal database error");
  }
}

Result<std::int64_t> OrganizationRepository::generation() {
  return guarded("read registry generation", [](pqxx::connection& c) -> Result<std::int64_t> {
    pqxx::read_transaction tx(c);
    return tx.exec1("SELECT generation FROM registry_generation")[0].as<std::int64_t>();
  });
}

Result<std::vector<Organization>> OrganizationRepository::loadAll() {
  return guarded("load organizations", [](pqxx::connection& c) -> Result<std::vector<Organization>> {
    pqxx::read_transaction tx(c);
    std::vector<Organization> out;
    std::map<std::int64_t, std::size_t> byId;
    for (const auto& row : tx.exec(
             "SELECT id, identifier, name, status, array_to_string(roles, ',') FROM organizations ORDER BY identifier")) {
      Organization org;
      org.identifier = row[1].as<std::string>();
      org.name = row[2].as<std::string>();
      if (!parseStatus(row[3].as<std::string>(), org.status)) org.status = OrganizationStatus::kSuspended;
      org.roles = splitRoles(row[4].as<std::string>());
      byId[row[0].as<std::int64_t>()] = out.size();
      out.push_back(std::move(org));
    }
    for (const auto& row : tx.exec("SELECT organization_id, cert_sha256 FROM organization_pins ORDER BY cert_sha256")) {
      auto it = byId.find(row[0].as<std::int64_t>());
      if (it != byId.end()) out[it->second].pinnedSha256.push_back(row[1].as<std::string>());
    }
    return out;
  });
}

Result<Organization> OrganizationRepository::add(const Organization& org, const std::optional<PeerIdentity>& pin) {
  return guarded("add organization", [&](pqxx::connection& c) -> Result<Organization> {
    pqxx::work tx(c);
    if (!tx.exec_params("SELECT 1 FROM organizations WHERE identifier = $1", org.identifier).empty()) {
      return fail(ErrorCode::kConflict, "organization " + org.identifier + " already exists");
    }
    auto id = tx.exec_params1(
                    "INSERT INTO organizations (identifier, name, status, roles) VALUES ($1, $2, $3, $4::text[]) "
                    "RETURNING id",
                    org.identifier, org.name, statusName(org.status), joinRoles(org.roles))[0]
                  .as<std::int64_t>();
    Organization stored = org;
    if (pin) {
      auto owner = tx.exec_params(
          "SELECT o.identifier FROM organization_pins p JOIN organizations o ON o.id = p.organization_id "
          "WHERE p.cert_sha256 = $1",
          pin->certSha256);
      if (!owner.empty()) return tl::make_unexpected(pinConflict(owner[0][0].as<std::string>()));
      tx.exec_params(
          "INSERT INTO organization_pins (cert_sha256, organization_id, subject_dn, not_after) "
          "VALUES ($1, $2, $3, to_timestamp($4))",
          pin->certSha256, id, pin->subjectDn, pin->notAfter);
      stored.pinnedSha256 = {pin->certSha256};
    }
    tx.commit();
    return stored;
  });
}

Result<bool> OrganizationRepository::setStatus(const std::string& identifier, OrganizationStatus status) {
  return guarded("change organization status", [&](pqxx::connection& c) -> Result<bool> {
    pqxx::work tx(c);
    auto current = tx.exec_params("SELECT status FROM organizations WHERE identifier = $1 FOR UPDATE", identifier);
    if (current.empty()) return fail(ErrorCode::kNotFound, "no organization " + identifier);
    if (current[0][0].as<std::string>() == statusName(status)) return false;
    tx.exec_params("UPDATE organizations SET status = $2, updated_at = now() WHERE identifier = $1", identifier,
                   statusName(status));
    tx.commit();
    return true;
  });
}

Result<bool> OrganizationRepository::pin(const std::string& identifier, const PeerIdentity& certificate) {
  return guarded("pin certificate", [&](pqxx::connection& c) -> Result<bool> {
    pqxx::work tx(c);
    auto org = tx.exec_params("SELECT id FROM organizations WHERE identifier = $1 FOR UPDATE", identifier);
    if (org.empty()) return fail(ErrorCode::kNotFound, "no organization " + identifier);
    auto owner = tx.exec_params(
        "SELECT o.identifier FROM organization_pins p JOIN organizations o ON o.id = p.organization_id "
        "WHERE p.cert_sha256 = $1",
        certificate.certSha256);
    if (!owner.empty()) {
      const auto ownerId = owner[0][0].as<std::string>();
      if (ownerId == identifier) return false;
      return tl::make_unexpected(pinConflict(ownerId));
    }
    tx.exec_params(
        "INSERT INTO organization_pins (cert_sha256, organization_id, subject_dn, not_after) "
        "VALUES ($1, $2, $3, to_timestamp($4))",
        certificate.certSha256, org[0][0].as<std::int64_t>(), certificate.subjectDn, certificate.notAfter);
    tx.commit();
    return true;
  });
}

}  // namespace hie::auth

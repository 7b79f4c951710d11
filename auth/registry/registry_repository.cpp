#include "auth/registry/registry_repository.h"

#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include <pqxx/pqxx>

#include "db/session.h"
#include "db/sql_array.h"

namespace hie::auth {
namespace {

std::string joinRoles(const std::vector<Role>& roles) {
  std::vector<std::string> names;
  for (Role r : roles) names.push_back(roleName(r));
  return db::textArrayLiteral(names);
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

std::set<std::string> splitSet(const std::string& csv) {
  std::set<std::string> out;
  std::stringstream in(csv);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.insert(item);
  }
  return out;
}

Grant grantFromRow(const pqxx::row& row) {
  Grant g;
  g.id = row[0].as<long long>();
  g.organization = row[1].as<std::string>();
  g.resourceTypes = splitSet(row[2].as<std::string>());
  for (const auto& a : splitSet(row[3].as<std::string>())) {
    Action action;
    if (parseAction(a, action)) g.actions.insert(action);
  }
  g.purposes = splitSet(row[4].as<std::string>());
  return g;
}

Error pinConflict(const std::string& owner) {
  return Error{ErrorCode::kConflict, "certificate already pinned to " + owner,
               "that certificate is already pinned to organization " + owner};
}

}  // namespace

RegistryRepository::RegistryRepository(std::string dbUri) : session_(std::make_unique<db::Session>(std::move(dbUri))) {}
RegistryRepository::~RegistryRepository() = default;

Result<std::int64_t> RegistryRepository::generation() {
  return session_->run("read registry generation", [](pqxx::connection& c) -> Result<std::int64_t> {
    pqxx::read_transaction tx(c);
    return tx.exec1("SELECT generation FROM registry_generation")[0].as<std::int64_t>();
  });
}

Result<RegistrySnapshot> RegistryRepository::loadAll() {
  return session_->run("load registry", [](pqxx::connection& c) -> Result<RegistrySnapshot> {
    // One repeatable-read transaction: organizations, grants and consent from the same moment.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(c);
    RegistrySnapshot snap;
    std::map<std::int64_t, std::size_t> byId;
    for (const auto& row : tx.exec(
             "SELECT id, identifier, name, status, array_to_string(roles, ','), coalesce(signature_policy, '') "
             "FROM organizations ORDER BY identifier")) {
      Organization org;
      org.identifier = row[1].as<std::string>();
      org.name = row[2].as<std::string>();
      if (!parseStatus(row[3].as<std::string>(), org.status)) org.status = OrganizationStatus::kSuspended;
      org.roles = splitRoles(row[4].as<std::string>());
      org.signaturePolicy = parseSignaturePolicy(row[5].as<std::string>());
      byId[row[0].as<std::int64_t>()] = snap.organizations.size();
      snap.organizations.push_back(std::move(org));
    }
    for (const auto& row : tx.exec("SELECT organization_id, cert_sha256 FROM organization_pins ORDER BY cert_sha256")) {
      auto it = byId.find(row[0].as<std::int64_t>());
      if (it != byId.end()) snap.organizations[it->second].pinnedSha256.push_back(row[1].as<std::string>());
    }
    for (const auto& row : tx.exec(
             "SELECT g.id, o.identifier, array_to_string(g.resource_types, ','), array_to_string(g.actions, ','), "
             "array_to_string(g.purposes, ',') FROM grants g JOIN organizations o ON o.id = g.organization_id "
             "WHERE g.revoked_at IS NULL ORDER BY g.id")) {
      Grant g = grantFromRow(row);
      snap.grantsByOrganization[g.organization].push_back(std::move(g));
    }
    for (const auto& row : tx.exec("SELECT patient_id, opted_out FROM patient_consents")) {
      snap.consents[row[0].as<std::string>()].optedOut = row[1].as<bool>();
    }
    for (const auto& row : tx.exec(
             "SELECT d.patient_id, o.identifier FROM patient_consent_denials d "
             "JOIN organizations o ON o.id = d.organization_id")) {
      snap.consents[row[0].as<std::string>()].deniedOrganizations.insert(row[1].as<std::string>());
    }
    for (const auto& row : tx.exec(
             "SELECT o.identifier, p.base_url, coalesce(p.log_key, ''), coalesce(p.witness_key, ''), p.auth, "
             "  (extract(epoch FROM p.created_at) * 1000000)::bigint "
             "FROM peers p JOIN organizations o ON o.id = p.organization_id ORDER BY o.identifier")) {
      snap.peers.push_back(PeerEntry{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                                     row[3].as<std::string>(), row[4].as<std::string>(), row[5].as<std::int64_t>()});
    }
    for (const auto& row : tx.exec(
             "SELECT c.client_id, o.identifier, c.status = 'active' FROM udap_clients c "
             "JOIN organizations o ON o.id = c.organization_id")) {
      snap.udapClients.emplace(row[0].as<std::string>(),
                               UdapClientEntry{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<bool>()});
    }
    return snap;
  });
}

Result<Organization> RegistryRepository::add(const Organization& org, const std::optional<PeerIdentity>& pin) {
  return session_->run("add organization", [&](pqxx::connection& c) -> Result<Organization> {
    pqxx::work tx(c);
    if (!tx.exec_params("SELECT 1 FROM organizations WHERE identifier = $1", org.identifier).empty()) {
      return fail(ErrorCode::kConflict, "organization " + org.identifier + " already exists");
    }
    auto id = tx.exec_params1(
                    "INSERT INTO organizations (identifier, name, status, roles, signature_policy) "
                    "VALUES ($1, $2, $3, $4::text[], $5) RETURNING id",
                    org.identifier, org.name, statusName(org.status), joinRoles(org.roles),
                    org.signaturePolicy ? signaturePolicyName(*org.signaturePolicy) : nullptr)[0]
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

Result<bool> RegistryRepository::setStatus(const std::string& identifier, OrganizationStatus status) {
  return session_->run("change organization status", [&](pqxx::connection& c) -> Result<bool> {
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

Result<bool> RegistryRepository::setSignaturePolicy(const std::string& identifier,
                                                   const std::optional<SignaturePolicy>& policy) {
  return session_->run("change signature policy", [&](pqxx::connection& c) -> Result<bool> {
    pqxx::work tx(c);
    auto current = tx.exec_params(
        "SELECT coalesce(signature_policy, '') FROM organizations WHERE identifier = $1 FOR UPDATE", identifier);
    if (current.empty()) return fail(ErrorCode::kNotFound, "no organization " + identifier);
    const std::string wanted = policy ? signaturePolicyName(*policy) : "";
    if (current[0][0].as<std::string>() == wanted) return false;
    tx.exec_params("UPDATE organizations SET signature_policy = NULLIF($2, ''), updated_at = now() WHERE identifier = $1",
                   identifier, wanted);
    tx.commit();
    return true;
  });
}

Result<bool> RegistryRepository::pin(const std::string& identifier, const PeerIdentity& certificate) {
  return session_->run("pin certificate", [&](pqxx::connection& c) -> Result<bool> {
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

namespace hie::auth {
namespace {

const char* const kGrantSelect =
    "SELECT g.id, o.identifier, array_to_string(g.resource_types, ','), array_to_string(g.actions, ','), "
    "array_to_string(g.purposes, ',') FROM grants g JOIN organizations o ON o.id = g.organization_id "
    "WHERE g.revoked_at IS NULL";

Result<std::int64_t> organizationId(pqxx::transaction_base& tx, const std::string& identifier) {
  auto row = tx.exec_params("SELECT id FROM organizations WHERE identifier = $1", identifier);
  if (row.empty()) return fail(ErrorCode::kNotFound, "no organization " + identifier);
  return row[0][0].as<std::int64_t>();
}

}  // namespace

Result<Grant> RegistryRepository::addGrant(const Grant& grant) {
  return session_->run("add grant", [&](pqxx::connection& c) -> Result<Grant> {
    pqxx::work tx(c);
    auto orgId = organizationId(tx, grant.organization);
    if (!orgId) return tl::make_unexpected(orgId.error());
    std::set<std::string> actions;
    for (auto a : grant.actions) actions.insert(actionName(a));
    auto id = tx.exec_params1(
                    "INSERT INTO grants (organization_id, resource_types, actions, purposes) "
                    "VALUES ($1, $2::text[], $3::text[], $4::text[]) RETURNING id",
                    *orgId, db::textArrayLiteral(grant.resourceTypes), db::textArrayLiteral(actions), db::textArrayLiteral(grant.purposes))[0]
                  .as<long long>();
    tx.commit();
    Grant stored = grant;
    stored.id = id;
    return stored;
  });
}

Result<std::vector<Grant>> RegistryRepository::listGrants(const std::string& identifier) {
  return session_->run("list grants", [&](pqxx::connection& c) -> Result<std::vector<Grant>> {
    pqxx::read_transaction tx(c);
    if (!identifier.empty()) {
      auto orgId = organizationId(tx, identifier);
      if (!orgId) return tl::make_unexpected(orgId.error());
    }
    auto rows = identifier.empty()
                    ? tx.exec(std::string(kGrantSelect) + " ORDER BY g.id")
                    : tx.exec_params(std::string(kGrantSelect) + " AND o.identifier = $1 ORDER BY g.id", identifier);
    std::vector<Grant> out;
    for (const auto& row : rows) out.push_back(grantFromRow(row));
    return out;
  });
}

Result<bool> RegistryRepository::revokeGrant(long long id) {
  return session_->run("revoke grant", [&](pqxx::connection& c) -> Result<bool> {
    pqxx::work tx(c);
    auto r = tx.exec_params("UPDATE grants SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", id);
    if (r.affected_rows() == 0) return fail(ErrorCode::kNotFound, "no active grant " + std::to_string(id));
    tx.commit();
    return true;
  });
}

Result<bool> RegistryRepository::optOut(const std::string& patientId) {
  return session_->run("record opt-out", [&](pqxx::connection& c) -> Result<bool> {
    pqxx::work tx(c);
    auto r = tx.exec_params(
        "INSERT INTO patient_consents (patient_id, opted_out) VALUES ($1, true) "
        "ON CONFLICT (patient_id) DO UPDATE SET opted_out = true, updated_at = now() "
        "WHERE patient_consents.opted_out = false",
        patientId);
    tx.commit();
    return r.affected_rows() > 0;
  });
}

Result<bool> RegistryRepository::denyOrganization(const std::string& patientId, const std::string& identifier) {
  return session_->run("record organization denial", [&](pqxx::connection& c) -> Result<bool> {
    pqxx::work tx(c);
    auto orgId = organizationId(tx, identifier);
    if (!orgId) return tl::make_unexpected(orgId.error());
    auto r = tx.exec_params(
        "INSERT INTO patient_consent_denials (patient_id, organization_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        patientId, *orgId);
    tx.commit();
    return r.affected_rows() > 0;
  });
}

Result<bool> RegistryRepository::clearConsent(const std::string& patientId) {
  return session_->run("clear consent", [&](pqxx::connection& c) -> Result<bool> {
    pqxx::work tx(c);
    auto a = tx.exec_params("DELETE FROM patient_consents WHERE patient_id = $1", patientId);
    auto b = tx.exec_params("DELETE FROM patient_consent_denials WHERE patient_id = $1", patientId);
    tx.commit();
    return a.affected_rows() + b.affected_rows() > 0;
  });
}

Result<bool> RegistryRepository::patientExists(const std::string& patientId) {
  return session_->run("look up patient", [&](pqxx::connection& c) -> Result<bool> {
    pqxx::read_transaction tx(c);
    return !tx.exec_params("SELECT 1 FROM fhir_resources WHERE resource_type = 'Patient' AND id = $1", patientId)
                .empty();
  });
}

}  // namespace hie::auth

namespace hie::auth {

Result<bool> RegistryRepository::setPeer(const std::string& identifier, const std::string& baseUrl,
                                         const std::optional<std::string>& logKey,
                                         const std::optional<std::string>& witnessKey,
                                         const std::optional<std::string>& auth) {
  if (auth && *auth != "mtls" && *auth != "udap") return fail(ErrorCode::kInvalidInput, "peer auth must be mtls or udap");
  return session_->run("add peer", [&](pqxx::connection& c) -> Result<bool> {
    pqxx::work tx(c);
    auto orgId = tx.exec_params("SELECT id FROM organizations WHERE identifier = $1", identifier);
    if (orgId.empty()) return fail(ErrorCode::kNotFound, "no organization " + identifier);
    const std::int64_t id = orgId[0][0].as<std::int64_t>();
    // A key name names one log (its origin) or one witness: two peers may not claim the same one.
    for (const auto& [column, key, what] :
         {std::make_tuple("log_key", logKey, "log origin"), std::make_tuple("witness_key", witnessKey, "witness name")}) {
      if (!key) continue;
      auto other = tx.exec_params(std::string("SELECT o.identifier FROM peers p JOIN organizations o ON o.id = p.organization_id "
                                              "WHERE p.organization_id <> $1 AND split_part(p.") +
                                      column + ", '+', 1) = split_part($2, '+', 1)",
                                  id, *key);
      if (!other.empty()) {
        return fail(ErrorCode::kConflict, std::string("the ") + what + " " + key->substr(0, key->find('+')) +
                                              " is already registered for the peer " + other[0][0].as<std::string>());
      }
    }
    // A new URL or auth makes a new entry for what this node caches about the peer: created_at (the
    // entry's `since`) is set anew, and this node's UDAP registration at the peer is forgotten (a UDAP
    // peer is registered at anew; no client_id or token of the old entry is used).
    auto before = tx.exec_params("SELECT base_url, auth FROM peers WHERE organization_id = $1 FOR UPDATE", id);
    const bool newEntry = !before.empty() && (before[0][0].as<std::string>() != baseUrl ||
                                              (auth && before[0][1].as<std::string>() != *auth));
    if (newEntry) tx.exec_params("DELETE FROM udap_peer_registrations WHERE organization_id = $1", id);
    // A key not given stays as it was.
    auto r = tx.exec_params(
        "INSERT INTO peers (organization_id, base_url, log_key, witness_key, auth) "
        "VALUES ($1, $2, CASE WHEN $5 THEN $3 END, CASE WHEN $6 THEN $4 END, CASE WHEN $8 THEN $7 ELSE 'mtls' END) "
        "ON CONFLICT (organization_id) DO UPDATE SET base_url = EXCLUDED.base_url, "
        "  log_key = CASE WHEN $5 THEN $3 ELSE peers.log_key END, "
        "  witness_key = CASE WHEN $6 THEN $4 ELSE peers.witness_key END, "
        "  auth = CASE WHEN $8 THEN $7 ELSE peers.auth END, "
        "  created_at = CASE WHEN $9 THEN clock_timestamp() ELSE peers.created_at END "
        "WHERE peers.base_url <> EXCLUDED.base_url "
        "   OR ($5 AND peers.log_key IS DISTINCT FROM $3) OR ($6 AND peers.witness_key IS DISTINCT FROM $4) "
        "   OR ($8 AND peers.auth <> $7)",
        id, baseUrl, logKey.value_or(""), witnessKey.value_or(""), logKey.has_value(), witnessKey.has_value(),
        auth.value_or("mtls"), auth.has_value(), newEntry);
    tx.commit();
    return r.affected_rows() > 0;
  });
}

Result<bool> RegistryRepository::removePeer(const std::string& identifier) {
  return session_->run("remove peer", [&](pqxx::connection& c) -> Result<bool> {
    pqxx::work tx(c);
    auto r = tx.exec_params(
        "DELETE FROM peers WHERE organization_id = (SELECT id FROM organizations WHERE identifier = $1)", identifier);
    if (r.affected_rows() == 0) return fail(ErrorCode::kNotFound, "no peer entry for " + identifier);
    // This node's UDAP registration at that peer goes with the entry (a new entry registers anew).
    tx.exec_params("DELETE FROM udap_peer_registrations WHERE organization_id = "
                   "(SELECT id FROM organizations WHERE identifier = $1)", identifier);
    tx.commit();
    return true;
  });
}

}  // namespace hie::auth

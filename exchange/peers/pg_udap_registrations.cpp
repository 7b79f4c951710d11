#include "exchange/peers/pg_udap_registrations.h"

#include <pqxx/pqxx>

#include "db/pooled.h"

namespace hie::exchange {

PgUdapRegistrations::PgUdapRegistrations(db::ConnectionPool& pool) : pool_(pool) {}

Result<std::optional<UdapRegistrationStore::Registration>> PgUdapRegistrations::find(const std::string& organization) {
  return db::withConnection(pool_, "read UDAP peer registration",
                            [&](pqxx::connection& c) -> Result<std::optional<Registration>> {
                              pqxx::nontransaction tx(c);
                              auto r = tx.exec_params(
                                  "SELECT r.registration_endpoint, r.client_id FROM udap_peer_registrations r "
                                  "JOIN organizations o ON o.id = r.organization_id WHERE o.identifier = $1",
                                  organization);
                              if (r.empty()) return std::optional<Registration>();
                              return std::optional<Registration>(
                                  Registration{r[0][0].as<std::string>(), r[0][1].as<std::string>()});
                            });
}

Result<void> PgUdapRegistrations::save(const std::string& organization, const Registration& registration) {
  return db::withConnection(pool_, "store UDAP peer registration", [&](pqxx::connection& c) -> Result<void> {
    pqxx::work tx(c);
    auto r = tx.exec_params(
        "INSERT INTO udap_peer_registrations (organization_id, registration_endpoint, client_id) "
        "SELECT id, $2, $3 FROM organizations WHERE identifier = $1 "
        "ON CONFLICT (organization_id) DO UPDATE SET registration_endpoint = EXCLUDED.registration_endpoint, "
        "  client_id = EXCLUDED.client_id, registered_at = now()",
        organization, registration.registrationEndpoint, registration.clientId);
    if (r.affected_rows() == 0) return fail(ErrorCode::kNotFound, "no organization " + organization);
    tx.commit();
    return {};
  });
}

Result<void> PgUdapRegistrations::forget(const std::string& organization) {
  return db::withConnection(pool_, "forget UDAP peer registration", [&](pqxx::connection& c) -> Result<void> {
    pqxx::work tx(c);
    tx.exec_params(
        "DELETE FROM udap_peer_registrations WHERE organization_id = "
        "(SELECT id FROM organizations WHERE identifier = $1)",
        organization);
    tx.commit();
    return {};
  });
}

}  // namespace hie::exchange

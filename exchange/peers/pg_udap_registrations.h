// UdapRegistrationStore in PostgreSQL (table udap_peer_registrations, migration 0009): this node's
// client_id at each UDAP peer, one row per peer organization, shared by every process of the node.
#pragma once

#include "db/connection_pool.h"
#include "exchange/peers/udap_peer_fanout.h"

namespace hie::exchange {

class PgUdapRegistrations : public UdapRegistrationStore {
 public:
  // pool must outlive this.
  explicit PgUdapRegistrations(db::ConnectionPool& pool);
  Result<std::optional<Registration>> find(const std::string& organization) override;
  // kNotFound when the organization is not registered in this node's registry.
  Result<void> save(const std::string& organization, const Registration& registration) override;
  Result<void> forget(const std::string& organization) override;

 private:
  db::ConnectionPool& pool_;
};

}  // namespace hie::exchange

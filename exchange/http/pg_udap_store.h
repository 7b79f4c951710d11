// UdapClientStore and JtiRegistry in PostgreSQL (tables udap_clients and
// udap_jti, migration 0009). A registration runs in one transaction that
// locks the active row of its SAN URI; the unique partial index
// udap_clients_one_active stops a second process that inserts at the same
// time, which then retries and modifies the row the first one made. The jti
// registry is one INSERT ... ON CONFLICT DO NOTHING per JWT, with bounded
// pruning like PgNonceRegistry.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "db/connection_pool.h"
#include "exchange/http/udap_stores.h"

namespace hie::exchange {

class PgUdapClientStore : public UdapClientStore {
 public:
  // pool must outlive this.
  explicit PgUdapClientStore(db::ConnectionPool& pool) : pool_(pool) {}
  Result<UdapRegistered> registerClient(const UdapRegistration& registration) override;
  Result<std::optional<std::string>> cancelBySan(const std::string& sanUri) override;
  Result<bool> cancelById(const std::string& clientId) override;
  Result<std::optional<UdapClientRecord>> find(const std::string& clientId) const override;
  Result<std::vector<UdapClientRecord>> list() const override;

 private:
  db::ConnectionPool& pool_;
};

class PgJtiRegistry : public JtiRegistry {
 public:
  explicit PgJtiRegistry(db::ConnectionPool& pool) : pool_(pool) {}
  Result<bool> remember(const std::string& issuer, const std::string& jti, std::int64_t rememberUntil,
                        std::int64_t now) override;

 private:
  bool prunePending(std::int64_t now);

  db::ConnectionPool& pool_;
  std::atomic<std::uint64_t> inserts_{0};
  std::mutex pruneMutex_;
  std::int64_t lastPrune_ = 0;
};

// A new client_id: 128 random bits, base64url without padding (22 characters), never beginning with '-'.
std::string newUdapClientId();

}  // namespace hie::exchange

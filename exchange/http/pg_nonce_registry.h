// NonceRegistry in PostgreSQL (table request_nonces, migration 0006): one
// INSERT ... ON CONFLICT DO NOTHING per signed request, so every process of
// the node sees every other's nonces; expired rows are deleted in bounded
// batches now and then.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "db/connection_pool.h"
#include "exchange/http/signature_stores.h"

namespace hie::exchange {

class PgNonceRegistry : public NonceRegistry {
 public:
  // pool must outlive this.
  explicit PgNonceRegistry(db::ConnectionPool& pool);
  Result<bool> remember(const std::string& keyId, const std::string& nonce, std::int64_t rememberUntil,
                        std::int64_t now) override;

 private:
  bool prunePending(std::int64_t now);

  db::ConnectionPool& pool_;
  std::atomic<std::uint64_t> inserts_{0};
  std::mutex pruneMutex_;
  std::int64_t lastPrune_ = 0;
};

}  // namespace hie::exchange

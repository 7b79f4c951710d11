// CertificateArchive in PostgreSQL (table certificates, migration 0006,
// append-only): INSERT ... ON CONFLICT DO NOTHING, once per certificate per
// process (the fingerprints stored are cached here).
#pragma once

#include <mutex>
#include <set>
#include <string>

#include "db/connection_pool.h"
#include "exchange/http/signature_stores.h"

namespace hie::exchange {

class PgCertificateArchive : public CertificateArchive {
 public:
  // pool must outlive this.
  explicit PgCertificateArchive(db::ConnectionPool& pool);
  Result<void> keep(const std::string& sha256, const std::string& chainPem) override;

 private:
  db::ConnectionPool& pool_;
  std::mutex mutex_;
  std::set<std::string> kept_;  // fingerprints known to be stored
};

}  // namespace hie::exchange

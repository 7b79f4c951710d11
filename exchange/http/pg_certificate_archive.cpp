#include "exchange/http/pg_certificate_archive.h"

#include <pqxx/pqxx>

#include "db/pooled.h"

namespace hie::exchange {

PgCertificateArchive::PgCertificateArchive(db::ConnectionPool& pool) : pool_(pool) {}

Result<void> PgCertificateArchive::keep(const std::string& sha256, const std::string& chainPem) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (kept_.count(sha256) != 0) return {};
  }
  auto stored = db::withConnection(pool_, "keep certificate chain", [&](pqxx::connection& c) -> Result<void> {
    pqxx::nontransaction tx(c);
    // The first chain seen under a fingerprint stays (the table is append-only).
    tx.exec_params("INSERT INTO certificates (sha256, chain_pem) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING",
                   sha256, chainPem);
    return {};
  });
  if (!stored) return stored;
  std::lock_guard<std::mutex> lock(mutex_);
  kept_.insert(sha256);
  return {};
}

}  // namespace hie::exchange

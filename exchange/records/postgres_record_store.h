// FHIR resources in PostgreSQL (JSONB, with type, id, version, last-updated
// time and the patient they are about; every version in
// fhir_resource_history). Reads and searches are one round trip each; an
// import and a write are one transaction each. Named only by app/ (and the bench).
#pragma once

#include <string>
#include <vector>

#include <pqxx/connection>

#include "db/connection_pool.h"
#include "exchange/fhir/bundle_import.h"
#include "exchange/records/record_store.h"

namespace hie::exchange {

struct ImportSummary {
  int created = 0;
  int updated = 0;
};

// Leases a connection of pool per call; a broken connection is discarded (kUnavailable).
class PgRecordStore : public RecordStore, public RecordWriter {
 public:
  explicit PgRecordStore(db::ConnectionPool& pool) : pool_(pool) {}
  Result<std::optional<StoredResource>> read(const std::string& type, const std::string& id) override;
  Result<std::optional<StoredResource>> readVersion(const std::string& type, const std::string& id,
                                                    int version) override;
  Result<SearchPage> search(const SearchSpec& spec) override;
  Result<WriteOutcome> write(const WriteRequest& request, const std::string& requestId) override;

 private:
  // One row of (patient, resource, version, epoch seconds, deleted) by sql($1 type, $2 id[, $3 version]).
  Result<std::optional<StoredResource>> readOne(const char* what, const char* sql, const std::string& type,
                                                const std::string& id, std::optional<int> version);

  db::ConnectionPool& pool_;
};

// Stores a checked bundle in one transaction, each resource as a new version
// (as PUT does). Patients referenced from outside the bundle must already be
// stored (and not deleted), else kInvalidInput naming the entry; on any error
// nothing is stored.
Result<ImportSummary> importBundle(pqxx::connection& conn, const ImportCheck& check);

}  // namespace hie::exchange

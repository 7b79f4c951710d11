// FHIR resources in PostgreSQL (JSONB, with type, id, version, last-updated
// time and the patient they are about). Reads and searches are one round
// trip each; an import is one transaction.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "db/connection_pool.h"
#include "exchange/fhir/bundle_import.h"
#include "exchange/fhir/fhir_request.h"

namespace hie::exchange {

struct StoredResource {
  std::string type;
  std::string id;
  std::string patientId;
  std::string json;
};

struct SearchSpec {
  std::string resourceType;
  PatientSelector patient;
  int count = 20;
  std::string after;                         // keyset cursor: ids greater than this
  std::vector<std::string> excludedPatients; // consent: never returned, never counted
};

struct SearchPage {
  std::vector<StoredResource> items;
  long long total = 0;  // matches over all pages
  bool more = false;
};

struct ImportSummary {
  int created = 0;
  int updated = 0;
};

class RecordStore {
 public:
  virtual ~RecordStore() = default;
  virtual Result<std::optional<StoredResource>> read(const std::string& type, const std::string& id) = 0;
  virtual Result<SearchPage> search(const SearchSpec& spec) = 0;
};

class PgRecordStore : public RecordStore {
 public:
  explicit PgRecordStore(db::ConnectionPool& pool) : pool_(pool) {}
  Result<std::optional<StoredResource>> read(const std::string& type, const std::string& id) override;
  Result<SearchPage> search(const SearchSpec& spec) override;

 private:
  db::ConnectionPool& pool_;
};

// Stores a checked bundle in one transaction. Patients referenced from
// outside the bundle must already be stored, else kInvalidInput naming the
// entry; on any error nothing is stored.
Result<ImportSummary> importBundle(pqxx::connection& conn, const ImportCheck& check);

// A PostgreSQL text[] literal of ids (quoted, escaped).
std::string textArrayLiteral(const std::vector<std::string>& items);

}  // namespace hie::exchange

// Where the read API finds FHIR resources: one read by type and id, one page
// of a patient's resources. Implementations translate their own failures into
// Result errors (kUnavailable when the store is unreachable); nothing throws.
// The PostgreSQL implementation is PgRecordStore (postgres_record_store.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
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

class RecordStore {
 public:
  virtual ~RecordStore() = default;
  // The resource, or nullopt when there is none of that type and id.
  virtual Result<std::optional<StoredResource>> read(const std::string& type, const std::string& id) = 0;
  // Resources of spec.resourceType about spec.patient, ordered by id, at most spec.count after spec.after;
  // total counts every match (excluded patients never count).
  virtual Result<SearchPage> search(const SearchSpec& spec) = 0;
};

}  // namespace hie::exchange

// Where the read API finds FHIR resources (one read by type and id, one
// version, one page of a patient's resources) and where the write API keeps
// them (RecordWriter). Implementations translate their own failures into
// Result errors (kUnavailable when the store is unreachable); nothing throws.
// The PostgreSQL implementation is PgRecordStore (postgres_record_store.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/deferred_commit.h"
#include "common/result.h"
#include "exchange/fhir/fhir_request.h"
#include "exchange/fhir/fhir_write.h"

namespace hie::exchange {

struct StoredResource {
  std::string type;
  std::string id;
  std::string patientId;
  std::string json;            // "" when deleted
  int version = 1;
  std::int64_t lastModified = 0;  // seconds since the epoch (0 = unknown)
  bool deleted = false;        // this version is a deletion: readers who may see it get 410
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
  // The current version, or nullopt when there is none of that type and id (a deleted resource is
  // returned with deleted = true).
  virtual Result<std::optional<StoredResource>> read(const std::string& type, const std::string& id) = 0;
  // One version (GET .../_history/{vid}), or nullopt when there is no such version.
  virtual Result<std::optional<StoredResource>> readVersion(const std::string& type, const std::string& id,
                                                            int version) = 0;
  // Resources of spec.resourceType about spec.patient, ordered by id, at most spec.count after spec.after;
  // total counts every match (excluded patients never count).
  virtual Result<SearchPage> search(const SearchSpec& spec) = 0;
};

// One entry of a write as stored.
struct WrittenEntry {
  int index = -1;              // WriteEntry::index
  int status = 200;            // 201 created, 200 updated, deleted or found (ifNoneExist)
  std::string type, id;
  int version = 0;             // the version now current (for a delete: the deletion's)
  std::string lastUpdated;     // FHIR instant of that version
  std::int64_t lastModified = 0;
  bool deleted = false;
  bool changed = true;         // false: nothing written (ifNoneExist matched, already deleted)
  std::string patientId;       // the patient the resource is about
  std::string json;            // the stored resource with its meta ("" for a delete or no change)
};

struct WriteOutcome {
  // Transaction or single write: every entry, in WriteRequest::entries order. Batch: the entries
  // that were applied.
  std::vector<WrittenEntry> written;
  std::optional<WriteProblem> refused;        // transaction or single write: set = nothing is stored
  std::vector<WriteProblem> entryProblems;    // batch: the entries refused, each undone on its own
  std::string internalError;                  // batch: the first entry's failure of the node, for the log
  // The applied writes, still uncommitted: they become durable with pending->commit() (after the
  // request's audit entry is committed), and are undone when it is destroyed uncommitted. Null when
  // nothing was applied.
  std::unique_ptr<DeferredCommit> pending;
};

class RecordWriter {
 public:
  virtual ~RecordWriter() = default;
  // Applies every entry of request (ok()) in one database transaction, in entries order, and leaves
  // it open in WriteOutcome::pending. A transaction or single write is all or none (refused names
  // the entry and its status: 400 a patient that is not there or a target written twice, 404 a
  // delete of nothing, 409 a patient with resources left, 412 If-Match or a condition with several
  // matches); a batch applies each entry on its own (a savepoint each) and names the refused ones.
  // Readers see all of it or none of it. requestId is kept with every version written
  // (fhir_resource_history.request_id), so that each version leads to its audit entry.
  // kUnavailable: the store is unreachable, or the write ran into a concurrent one (a deadlock);
  // nothing is stored.
  virtual Result<WriteOutcome> write(const WriteRequest& request, const std::string& requestId) = 0;
};

}  // namespace hie::exchange

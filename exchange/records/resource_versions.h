// The statements that write one version of one resource (shared by the
// importer and the write API, so both keep the same history): each is one
// round trip inside the caller's transaction. PostgreSQL adapter.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <pqxx/transaction_base>

#include "exchange/records/record_store.h"

namespace hie::exchange {

// Stores json as the next version of type/id (version 1 when new, or a resource that was deleted
// comes back as the next version) and records it in the history; meta.versionId and
// meta.lastUpdated are set here. ifMatch: only when the current version is that one (nullopt
// then: another version is current, or there is none). requestId: the request that writes it,
// kept with the version ("" for records import). Returns the entry as stored (status 201 when the
// resource did not exist or was deleted).
std::optional<WrittenEntry> storeVersion(pqxx::transaction_base& tx, const std::string& type, const std::string& id,
                                         const std::string& patientId, const std::string& json,
                                         std::optional<int> ifMatch, const std::string& requestId);

// Marks type/id deleted as its next version (history: a deletion). nullopt when there is no live
// resource of that version (ifMatch) or at all.
std::optional<WrittenEntry> deleteVersion(pqxx::transaction_base& tx, const std::string& type, const std::string& id,
                                          std::optional<int> ifMatch, const std::string& requestId);

// The current version of type/id and whether it is deleted; nullopt when there is none.
std::optional<std::pair<int, bool>> currentVersion(pqxx::transaction_base& tx, const std::string& type,
                                                   const std::string& id);

// A Patient's identifiers as searches find them: replaced by these (none: removed).
void replacePatientIdentifiers(pqxx::transaction_base& tx, const std::string& patientId,
                               const std::vector<std::pair<std::string, std::string>>& identifiers);

// Conditional writes of one identifier run one after the other: each takes, until commit, the
// transaction lock of its identifier's bucket (identifierBucket), all of a request's buckets at
// once and in ascending order (so that two requests never wait for each other in a cycle). A
// fixed number of buckets bounds the locks one transaction holds in PostgreSQL's lock table.
constexpr int kIdentifierBuckets = 256;
int identifierBucket(const std::string& type, const std::string& system, const std::string& value);
void lockIdentifierBuckets(pqxx::transaction_base& tx, const std::vector<int>& sortedBuckets);

// The ids of live resources of type with that identifier, other than `except` (those the same
// transaction deletes), at most 2: enough to tell "several". Take the identifier's bucket lock
// first (lockIdentifierBuckets).
std::vector<std::string> findByIdentifier(pqxx::transaction_base& tx, const std::string& type,
                                          const std::string& system, const std::string& value,
                                          const std::vector<std::string>& except);

// Of these patient ids, those that are stored and not deleted (locked FOR SHARE until commit, so
// that they cannot be deleted under the caller).
std::vector<std::string> livePatients(pqxx::transaction_base& tx, const std::vector<std::string>& ids);

// Whether a live resource other than the Patient itself is about that patient.
bool patientHasResources(pqxx::transaction_base& tx, const std::string& patientId);

}  // namespace hie::exchange

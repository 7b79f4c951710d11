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

// The ids of live resources of type with that identifier (at most 2: enough to tell "several"),
// after taking a transaction lock on (type, system, value) so that two conditional writes of the
// same identifier run one after the other.
std::vector<std::string> findByIdentifier(pqxx::transaction_base& tx, const std::string& type,
                                          const std::string& system, const std::string& value);

// Of these patient ids, those that are stored and not deleted (locked FOR SHARE until commit, so
// that they cannot be deleted under the caller).
std::vector<std::string> livePatients(pqxx::transaction_base& tx, const std::vector<std::string>& ids);

// Whether a live resource other than the Patient itself is about that patient.
bool patientHasResources(pqxx::transaction_base& tx, const std::string& patientId);

}  // namespace hie::exchange

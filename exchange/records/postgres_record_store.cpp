#include "exchange/records/postgres_record_store.h"
#include "db/page_rows.h"
#include "db/sql_array.h"

#include <pqxx/pqxx>

#include "db/pooled.h"
#include "exchange/records/resource_versions.h"

namespace hie::exchange {
namespace {

// The patient filter for a search: by id, or by identifier through patient_identifiers.
const char* const kMatchByPatientId =
    "WITH m AS (SELECT id, patient_id, resource FROM fhir_resources "
    " WHERE resource_type = $1 AND patient_id = $2 AND NOT deleted AND NOT (patient_id = ANY($3::text[]))) ";
const char* const kMatchByIdentifier =
    "WITH m AS (SELECT id, patient_id, resource FROM fhir_resources "
    " WHERE resource_type = $1 AND patient_id IN "
    "   (SELECT patient_id FROM patient_identifiers WHERE system = $2 AND value = $6) "
    " AND NOT deleted AND NOT (patient_id = ANY($3::text[]))) ";
// Always one row at least: the total, with NULL columns when the page is empty.
const char* const kPage =
    ", total AS (SELECT count(*) AS n FROM m) "
    "SELECT p.id, p.patient_id, p.resource::text, total.n FROM total LEFT JOIN LATERAL "
    "  (SELECT id, patient_id, resource FROM m WHERE id > $4 ORDER BY id LIMIT $5) p ON true ORDER BY p.id";

// A row of (patient, resource, version, epoch, deleted).
StoredResource storedFrom(const std::string& type, const std::string& id, const pqxx::row& row) {
  StoredResource r{type, id, row[0].as<std::string>(), row[1].as<std::string>()};
  r.version = row[2].as<int>();
  r.lastModified = row[3].as<std::int64_t>();
  r.deleted = row[4].as<bool>();
  return r;
}

}  // namespace

Result<std::optional<StoredResource>> PgRecordStore::read(const std::string& type, const std::string& id) {
  // A deleted resource keeps its last content in its row; no reader is given it.
  return readOne("read resource",
                 "SELECT coalesce(patient_id, ''), CASE WHEN deleted THEN '' ELSE resource::text END, version, "
                 "       extract(epoch FROM last_updated)::bigint, deleted "
                 "FROM fhir_resources WHERE resource_type = $1 AND id = $2",
                 type, id, std::nullopt);
}

Result<std::optional<StoredResource>> PgRecordStore::readVersion(const std::string& type, const std::string& id,
                                                                 int version) {
  return readOne("read version",
                 "SELECT coalesce(patient_id, ''), coalesce(resource::text, ''), version, "
                 "       extract(epoch FROM last_updated)::bigint, deleted "
                 "FROM fhir_resource_history WHERE resource_type = $1 AND id = $2 AND version = $3",
                 type, id, version);
}

Result<std::optional<StoredResource>> PgRecordStore::readOne(const char* what, const char* sql, const std::string& type,
                                                             const std::string& id, std::optional<int> version) {
  return db::withConnection(pool_, what, [&](pqxx::connection& c) -> Result<std::optional<StoredResource>> {
    // One statement, so no explicit transaction: one round trip instead of three (BEGIN, SELECT, COMMIT).
    pqxx::nontransaction tx(c);
    auto rows = version ? tx.exec_params(sql, type, id, *version) : tx.exec_params(sql, type, id);
    if (rows.empty()) return std::optional<StoredResource>();
    return std::optional<StoredResource>(storedFrom(type, id, rows[0]));
  });
}

Result<SearchPage> PgRecordStore::search(const SearchSpec& spec) {
  return db::withConnection(pool_, "search resources", [&](pqxx::connection& c) -> Result<SearchPage> {
    pqxx::nontransaction tx(c);  // one statement (page and total together): its own snapshot
    const bool byIdentifier = spec.patient.byIdentifier();
    const std::string sql = std::string(byIdentifier ? kMatchByIdentifier : kMatchByPatientId) + kPage;
    const std::string excluded = db::textArrayLiteral(spec.excludedPatients);
    // One row more than the page tells whether there is a next page.
    pqxx::result rows = byIdentifier
                            ? tx.exec_params(sql, spec.resourceType, spec.patient.system, excluded, spec.after,
                                             spec.count + 1, spec.patient.value)
                            : tx.exec_params(sql, spec.resourceType, spec.patient.patientId, excluded, spec.after,
                                             spec.count + 1);
    SearchPage page;
    db::readPage(rows, spec.count, 3, page.total, page.more, [&](const pqxx::row& row) {
      page.items.push_back(StoredResource{spec.resourceType, row[0].as<std::string>(),
                                          row[1].is_null() ? "" : row[1].as<std::string>(), row[2].as<std::string>()});
    });
    return page;
  });
}

Result<ImportSummary> importBundle(pqxx::connection& conn, const ImportCheck& check) {
  if (!check.ok()) return fail(ErrorCode::kInvalidInput, "the bundle has problems; nothing imported");
  try {
    pqxx::work tx(conn);
    if (!check.externalPatients.empty()) {
      std::vector<std::string> ids;
      for (const auto& [id, index] : check.externalPatients) ids.push_back(id);
      std::set<std::string> found;
      for (const auto& row : tx.exec_params(
               "SELECT id FROM fhir_resources WHERE resource_type = 'Patient' AND id = ANY($1::text[]) AND NOT deleted "
               "FOR SHARE",
               db::textArrayLiteral(ids))) {
        found.insert(row[0].as<std::string>());
      }
      std::string missing;
      for (const auto& [id, index] : check.externalPatients) {
        if (found.count(id) == 0) {
          if (!missing.empty()) missing += "\n  ";
          missing += "entry " + std::to_string(index) + ": refers to Patient/" + id +
                     ", which is neither in the bundle nor in the store";
        }
      }
      if (!missing.empty()) return fail(ErrorCode::kInvalidInput, missing);
    }
    ImportSummary summary;
    for (const auto& r : check.resources) {
      // As PUT does: the next version, kept in the history.
      auto stored = storeVersion(tx, r.type, r.id, r.patientId, r.json, std::nullopt, "");
      (stored && stored->status == 201 ? summary.created : summary.updated) += 1;
      if (r.type == "Patient") replacePatientIdentifiers(tx, r.id, r.identifiers);
    }
    tx.commit();
    return summary;
  } catch (const pqxx::broken_connection& e) {
    return fail(ErrorCode::kUnavailable, std::string("lost the database connection; nothing imported: ") + e.what());
  } catch (const std::exception& e) {
    return fail(ErrorCode::kInternal, std::string("import failed and was rolled back: ") + e.what());
  }
}

}  // namespace hie::exchange

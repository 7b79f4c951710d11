#include "exchange/records/resource_versions.h"

#include <cstdint>

#include <pqxx/pqxx>

#include "db/sql_array.h"

namespace hie::exchange {
namespace {

// The FHIR instant of now(): the version's meta.lastUpdated.
#define HIE_NOW_INSTANT "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

// $4 with its meta's versionId and lastUpdated set for version V.
#define HIE_WITH_META(V)                                                                         \
  "$4::jsonb || jsonb_build_object('meta', coalesce($4::jsonb -> 'meta', '{}'::jsonb) || "        \
  "jsonb_build_object('versionId', (" V ")::text, 'lastUpdated', " HIE_NOW_INSTANT "))"

// The new current row, copied into the history with the request that wrote it (requestParam: its
// placeholder); returns what the reply needs. "created": the resource did not exist before, or its
// previous version is a deletion.
std::string historyTail(const char* requestParam) {
  return std::string(
             ", hist AS (INSERT INTO fhir_resource_history "
             "   (resource_type, id, version, last_updated, patient_id, deleted, resource, request_id) "
             " SELECT resource_type, id, version, last_updated, patient_id, deleted, "
             "   CASE WHEN deleted THEN NULL ELSE resource END, nullif(") +
         requestParam +
         ", '') FROM cur) "
         "SELECT version, to_char(last_updated AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
         "  extract(epoch FROM last_updated)::bigint, coalesce(patient_id, ''), "
         "  CASE WHEN deleted THEN '' ELSE resource::text END, "
         "  version = 1 OR EXISTS (SELECT 1 FROM fhir_resource_history h WHERE h.resource_type = cur.resource_type "
         "    AND h.id = cur.id AND h.version = cur.version - 1 AND h.deleted) "
         "FROM cur";
}

const std::string kUpsert =
    "WITH cur AS ("
    " INSERT INTO fhir_resources AS r (resource_type, id, version, last_updated, patient_id, resource, deleted) "
    " VALUES ($1, $2, 1, now(), nullif($3, ''), " HIE_WITH_META("1") ", false) "
    " ON CONFLICT (resource_type, id) DO UPDATE SET version = r.version + 1, last_updated = now(), "
    "   patient_id = EXCLUDED.patient_id, deleted = false, "
    "   resource = EXCLUDED.resource || jsonb_build_object('meta', EXCLUDED.resource -> 'meta' || "
    "     jsonb_build_object('versionId', (r.version + 1)::text)) "
    " RETURNING *) ";

const std::string kUpdateIfMatch =
    "WITH cur AS ("
    " UPDATE fhir_resources AS r SET version = r.version + 1, last_updated = now(), patient_id = nullif($3, ''), "
    "   deleted = false, resource = " HIE_WITH_META("r.version + 1") " "
    " WHERE resource_type = $1 AND id = $2 AND version = $5 "
    " RETURNING *) ";

const std::string kDelete =
    "WITH cur AS ("
    " UPDATE fhir_resources AS r SET version = r.version + 1, last_updated = now(), deleted = true "
    " WHERE resource_type = $1 AND id = $2 AND NOT deleted AND ($3::int < 0 OR version = $3::int) "
    " RETURNING *) ";

WrittenEntry entryFrom(const std::string& type, const std::string& id, const pqxx::row& row) {
  WrittenEntry w;
  w.type = type;
  w.id = id;
  w.version = row[0].as<int>();
  w.lastUpdated = row[1].as<std::string>();
  w.lastModified = row[2].as<std::int64_t>();
  w.patientId = row[3].as<std::string>();
  w.json = row[4].as<std::string>();
  w.status = row[5].as<bool>() ? 201 : 200;
  return w;
}

}  // namespace

std::optional<WrittenEntry> storeVersion(pqxx::transaction_base& tx, const std::string& type, const std::string& id,
                                         const std::string& patientId, const std::string& json,
                                         std::optional<int> ifMatch, const std::string& requestId) {
  static const std::string kUpsertStatement = kUpsert + historyTail("$5");
  static const std::string kUpdateStatement = kUpdateIfMatch + historyTail("$6");
  const pqxx::result rows =
      ifMatch ? tx.exec_params(kUpdateStatement, type, id, patientId, json, *ifMatch, requestId)
              : tx.exec_params(kUpsertStatement, type, id, patientId, json, requestId);
  if (rows.empty()) return std::nullopt;
  return entryFrom(type, id, rows[0]);
}

std::optional<WrittenEntry> deleteVersion(pqxx::transaction_base& tx, const std::string& type, const std::string& id,
                                          std::optional<int> ifMatch, const std::string& requestId) {
  static const std::string kDeleteStatement = kDelete + historyTail("$4");
  const pqxx::result rows = tx.exec_params(kDeleteStatement, type, id, ifMatch.value_or(-1), requestId);
  if (rows.empty()) return std::nullopt;
  WrittenEntry w = entryFrom(type, id, rows[0]);
  w.status = 200;
  w.deleted = true;
  w.json.clear();
  return w;
}

std::optional<std::pair<int, bool>> currentVersion(pqxx::transaction_base& tx, const std::string& type,
                                                   const std::string& id) {
  const pqxx::result rows =
      tx.exec_params("SELECT version, deleted FROM fhir_resources WHERE resource_type = $1 AND id = $2", type, id);
  if (rows.empty()) return std::nullopt;
  return std::make_pair(rows[0][0].as<int>(), rows[0][1].as<bool>());
}

void replacePatientIdentifiers(pqxx::transaction_base& tx, const std::string& patientId,
                               const std::vector<std::pair<std::string, std::string>>& identifiers) {
  tx.exec_params("DELETE FROM patient_identifiers WHERE patient_id = $1", patientId);
  if (identifiers.empty()) return;
  std::vector<std::string> systems, values;
  for (const auto& [system, value] : identifiers) {
    systems.push_back(system);
    values.push_back(value);
  }
  tx.exec_params(
      "INSERT INTO patient_identifiers (system, value, patient_id) "
      "SELECT s, v, $3 FROM unnest($1::text[], $2::text[]) AS i(s, v) ON CONFLICT DO NOTHING",
      db::textArrayLiteral(systems), db::textArrayLiteral(values), patientId);
}

int identifierBucket(const std::string& type, const std::string& system, const std::string& value) {
  // FNV-1a (64 bits): the same bucket in every process of the node, whatever it was built with.
  std::uint64_t h = 14695981039346656037ULL;
  for (const std::string* part : {&type, &system, &value}) {
    for (unsigned char c : *part) h = (h ^ c) * 1099511628211ULL;
    h = (h ^ 0x1fU) * 1099511628211ULL;
  }
  return static_cast<int>(h % kIdentifierBuckets);
}

void lockIdentifierBuckets(pqxx::transaction_base& tx, const std::vector<int>& sortedBuckets) {
  if (sortedBuckets.empty()) return;
  std::string array = "{";
  for (int b : sortedBuckets) array += (array.size() > 1 ? "," : "") + std::to_string(b);
  // unnest keeps the array's order: the locks are taken in ascending bucket order.
  tx.exec_params("SELECT pg_advisory_xact_lock(7001, b) FROM unnest($1::int[]) AS b", array + "}");
}

std::vector<std::string> findByIdentifier(pqxx::transaction_base& tx, const std::string& type,
                                          const std::string& system, const std::string& value,
                                          const std::vector<std::string>& except) {
  std::vector<std::string> ids;
  for (const auto& row : tx.exec_params(
           "SELECT id FROM fhir_resources WHERE resource_type = $1 AND NOT deleted AND "
           "  resource -> 'identifier' @> jsonb_build_array(jsonb_build_object('system', $2::text, 'value', $3::text)) "
           "  AND NOT (id = ANY($4::text[])) "
           "ORDER BY id LIMIT 2",
           type, system, value, db::textArrayLiteral(except))) {
    ids.push_back(row[0].as<std::string>());
  }
  return ids;
}

std::vector<std::string> livePatients(pqxx::transaction_base& tx, const std::vector<std::string>& ids) {
  std::vector<std::string> found;
  if (ids.empty()) return found;
  for (const auto& row : tx.exec_params(
           "SELECT id FROM fhir_resources WHERE resource_type = 'Patient' AND id = ANY($1::text[]) AND NOT deleted "
           "FOR SHARE",
           db::textArrayLiteral(ids))) {
    found.push_back(row[0].as<std::string>());
  }
  return found;
}

bool patientHasResources(pqxx::transaction_base& tx, const std::string& patientId) {
  return !tx.exec_params("SELECT 1 FROM fhir_resources WHERE patient_id = $1 AND resource_type <> 'Patient' "
                         "AND NOT deleted LIMIT 1",
                         patientId)
              .empty();
}

}  // namespace hie::exchange

// PgRecordStore::write: the write API's transaction (record_store.h, RecordWriter).
#include <set>

#include <pqxx/pqxx>

#include "common/hex.h"
#include "db/pooled.h"
#include "exchange/records/postgres_record_store.h"
#include "exchange/records/resource_versions.h"

namespace hie::exchange {
namespace {

WriteProblem refusal(const WriteEntry& w, int status, const char* code, const std::string& text) {
  return WriteProblem{w.index, status, code,
                      w.index < 0 ? text : "Bundle.entry[" + std::to_string(w.index) + "]: " + text};
}

// A server-assigned id: a random UUID (RFC 9562 version 4), which is a valid FHIR id.
std::string newResourceId() {
  std::string h = randomHex(16);
  h[12] = '4';
  h[16] = "89ab"[std::stoi(h.substr(16, 1), nullptr, 16) & 3];
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

// 412 for a version that is not current: says which one is (the writer may read it).
WriteProblem versionConflict(pqxx::transaction_base& tx, const WriteEntry& w, const std::string& id) {
  const auto current = currentVersion(tx, w.type, id);
  if (!current) return refusal(w, 412, "conflict", "If-Match: " + w.type + "/" + id + " does not exist");
  return refusal(w, 412, "conflict",
                 "If-Match: the current version of " + w.type + "/" + id + " is W/\"" +
                     std::to_string(current->first) + "\"" + (current->second ? " (deleted)" : ""));
}

class Transaction {
 public:
  Transaction(pqxx::transaction_base& tx, const WriteRequest& request, const std::string& requestId)
      : tx_(tx), request_(request), requestId_(requestId) {}

  WriteOutcome run() {
    WriteOutcome out;
    out.written.resize(request_.entries.size());
    // 1. Every entry's id: conditional ones are looked up (and locked) here.
    std::map<int, std::string> ids;
    for (std::size_t i = 0; i < request_.entries.size(); ++i) {
      const WriteEntry& w = request_.entries[i];
      WrittenEntry& written = out.written[i];
      written.index = w.index;
      written.type = w.type;
      if (!w.conditional) {
        written.id = w.method == WriteMethod::kPost ? newResourceId() : w.id;
      } else {
        const std::vector<std::string> found = findByIdentifier(tx_, w.type, w.condition.system, w.condition.value);
        if (found.size() > 1) {
          out.refused = refusal(w, 412, "multiple-matches",
                                "more than one " + w.type + " has that identifier; the condition must match one");
          return out;
        }
        if (found.empty()) {
          written.id = w.method == WriteMethod::kPost || w.id.empty() ? newResourceId() : w.id;
        } else if (w.method == WriteMethod::kPost) {
          // ifNoneExist matched: nothing is written, the answer names the resource that exists, and
          // references to the entry's fullUrl name it too (FHIR: the match stands in for the create).
          written.id = found[0];
          written.changed = false;
          const auto current = currentVersion(tx_, w.type, written.id);
          written.version = current ? current->first : 1;
          written.status = 200;
          // Its fullUrl still names it: references to it in the transaction resolve to the existing one.
          ids[static_cast<int>(i)] = written.id;
          continue;
        } else if (!w.id.empty() && w.id != found[0]) {
          out.refused = refusal(w, 400, "invalid",
                                "resource.id names another " + w.type + " than the one the condition found");
          return out;
        } else {
          written.id = found[0];
        }
      }
      if (w.method != WriteMethod::kDelete) ids[static_cast<int>(i)] = written.id;
    }
    // 2. References to fullUrls become Type/id; every resource's patient is known.
    const Finalized final = finalizeWrites(request_, ids);
    if (!final.problems.empty()) {
      out.refused = final.problems.front();
      return out;
    }
    // Patients this request writes; one that an ifNoneExist found is not written, so it is checked below.
    std::set<std::string> writtenPatients;
    for (std::size_t i = 0; i < request_.entries.size(); ++i) {
      const WriteEntry& w = request_.entries[i];
      if (w.type == "Patient" && w.method != WriteMethod::kDelete && out.written[i].changed) {
        writtenPatients.insert(out.written[i].id);
      }
    }
    auto needsStoredPatient = [&](const FinalResource& r) {
      const std::size_t i = static_cast<std::size_t>(r.entry);
      return request_.entries[i].type != "Patient" && out.written[i].changed && writtenPatients.count(r.patientId) == 0;
    };
    std::map<int, const FinalResource*> byEntry;
    std::set<std::string> outside;
    for (const auto& r : final.resources) {
      byEntry[r.entry] = &r;
      if (needsStoredPatient(r)) outside.insert(r.patientId);
    }
    // 3. Patients referenced from outside the request must be stored and stay so until commit.
    if (!outside.empty()) {
      const std::vector<std::string> wanted(outside.begin(), outside.end());
      const std::vector<std::string> live = livePatients(tx_, wanted);
      const std::set<std::string> found(live.begin(), live.end());
      for (const auto& r : final.resources) {
        const WriteEntry& w = request_.entries[static_cast<std::size_t>(r.entry)];
        if (needsStoredPatient(r) && found.count(r.patientId) == 0) {
          out.refused = refusal(w, 400, "invalid",
                                "refers to Patient/" + r.patientId + ", which this node does not have");
          return out;
        }
      }
    }
    // 4. The writes, in the request's order (deletes, creates, updates).
    std::vector<std::string> deletedPatients;
    for (std::size_t i = 0; i < request_.entries.size(); ++i) {
      const WriteEntry& w = request_.entries[i];
      WrittenEntry& written = out.written[i];
      if (!written.changed) continue;
      if (w.method == WriteMethod::kDelete) {
        auto done = deleteVersion(tx_, w.type, written.id, w.ifMatch, requestId_);
        if (!done) {
          const auto current = currentVersion(tx_, w.type, written.id);
          if (!current) {
            out.refused = refusal(w, 404, "not-found", w.type + "/" + written.id + " does not exist");
            return out;
          }
          if (current->second && !w.ifMatch) {  // already deleted: nothing to do (FHIR: idempotent)
            written.changed = false;
            written.deleted = true;
            written.version = current->first;
            written.status = 200;
            continue;
          }
          out.refused = versionConflict(tx_, w, written.id);
          return out;
        }
        done->index = w.index;
        written = std::move(*done);
        if (w.type == "Patient") {
          replacePatientIdentifiers(tx_, written.id, {});
          deletedPatients.push_back(written.id);
        }
        continue;
      }
      const FinalResource& r = *byEntry.at(static_cast<int>(i));
      auto done = storeVersion(tx_, w.type, written.id, r.patientId, r.json, w.ifMatch, requestId_);
      if (!done) {
        out.refused = versionConflict(tx_, w, written.id);
        return out;
      }
      done->index = w.index;
      written = std::move(*done);
      if (w.type == "Patient") replacePatientIdentifiers(tx_, written.id, r.identifiers);
    }
    // 5. A patient is deleted only with all of its resources.
    for (const auto& patient : deletedPatients) {
      if (patientHasResources(tx_, patient)) {
        for (const auto& w : request_.entries) {
          if (w.method == WriteMethod::kDelete && w.type == "Patient" && w.id == patient) {
            out.refused = refusal(w, 409, "conflict",
                                  "Patient/" + patient + " still has resources on this node; delete them first or in "
                                  "the same transaction");
          }
        }
        return out;
      }
    }
    return out;
  }

 private:
  pqxx::transaction_base& tx_;
  const WriteRequest& request_;
  const std::string& requestId_;
};

}  // namespace

Result<WriteOutcome> PgRecordStore::write(const WriteRequest& request, const std::string& requestId) {
  if (!request.ok() || request.entries.empty()) {
    return fail(ErrorCode::kInvalidInput, "write: the request has problems", "The request has problems.");
  }
  return db::withConnection(pool_, "write resources", [&](pqxx::connection& c) -> Result<WriteOutcome> {
    pqxx::work tx(c);
    WriteOutcome out = Transaction(tx, request, requestId).run();
    if (!out.refused) tx.commit();  // else: rolled back when tx goes out of scope
    if (out.refused) out.written.clear();
    return out;
  });
}

}  // namespace hie::exchange

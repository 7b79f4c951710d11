// PgRecordStore::write: the write API's transaction (record_store.h, RecordWriter), left open until
// the request's audit entry is committed.
#include <algorithm>
#include <memory>
#include <optional>
#include <set>

#include <pqxx/pqxx>

#include "common/hex.h"
#include "db/connection_pool.h"
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
    // 0. The locks of every condition's identifier, at once and in order.
    std::set<int> buckets;
    for (const auto& w : request_.entries) {
      if (w.conditional) buckets.insert(identifierBucket(w.type, w.condition.system, w.condition.value));
    }
    lockIdentifierBuckets(tx_, std::vector<int>(buckets.begin(), buckets.end()));
    // 1. Every entry's id: conditional ones are looked up here, as if the request's DELETEs were done.
    std::map<int, std::string> ids;
    for (std::size_t i = 0; i < request_.entries.size(); ++i) {
      const WriteEntry& w = request_.entries[i];
      WrittenEntry& written = out.written[i];
      written.index = w.index;
      written.type = w.type;
      if (!w.conditional) {
        written.id = w.method == WriteMethod::kPost ? newResourceId() : w.id;
      } else {
        std::vector<std::string> deletedIds;
        for (const auto& d : request_.entries) {
          if (d.method == WriteMethod::kDelete && d.type == w.type) deletedIds.push_back(d.id);
        }
        const std::vector<std::string> found =
            findByIdentifier(tx_, w.type, w.condition.system, w.condition.value, deletedIds);
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
    // Conditions resolved: still, each resource is written or deleted once.
    std::set<std::string> targets;
    for (std::size_t i = 0; i < request_.entries.size(); ++i) {
      const WrittenEntry& written = out.written[i];
      if (written.changed && !targets.insert(written.type + "/" + written.id).second) {
        out.refused = refusal(request_.entries[i], 400, "invalid",
                              "the request writes " + written.type + "/" + written.id +
                                  " more than once (as its conditions resolved)");
        return out;
      }
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

// The write's open transaction, on its own connection until it commits or is dropped. A connection
// that broke is not reused: the pool drops a lease's connection that is no longer open. (Nothing
// here deletes the connection under the transaction, which still refers to it until destroyed.)
class PgPendingWrite : public DeferredCommit {
 public:
  explicit PgPendingWrite(db::ConnectionPool::Lease lease) : lease_(std::move(lease)), tx_(*lease_) {}
  pqxx::work& tx() { return tx_; }

  Result<void> commit() override {
    try {
      tx_.commit();
      return {};
    } catch (const pqxx::in_doubt_error& e) {
      return fail(ErrorCode::kUnavailable, std::string("the write's commit is in doubt: ") + e.what(),
                  "The service is temporarily unavailable.");
    } catch (const pqxx::broken_connection& e) {
      return fail(ErrorCode::kUnavailable, std::string("lost the database connection while committing a write: ") + e.what(),
                  "The service is temporarily unavailable.");
    } catch (const std::exception& e) {
      return fail(ErrorCode::kInternal, std::string("commit of a write failed: ") + e.what(), "Internal error.");
    }
  }

 private:
  db::ConnectionPool::Lease lease_;  // declared first: destroyed after the transaction (which rolls back)
  pqxx::work tx_;
};

// A write that met a concurrent one in a lock cycle: nothing of it stands, the client may repeat it.
const char* const kDeadlock = "The write met a concurrent write of the same resources; nothing was stored. Repeat it.";
// A value PostgreSQL cannot hold (a number beyond its numeric range, for instance 1e200000).
const char* const kUnstorable = "A value of the resource cannot be stored (for example a number beyond the store's range).";

}  // namespace

Result<WriteOutcome> PgRecordStore::write(const WriteRequest& request, const std::string& requestId) {
  // A batch's refused entries are left out of its entries; what is left is written.
  if (request.entries.empty() || (request.kind != WriteRequest::Kind::kBatch && !request.ok())) {
    return fail(ErrorCode::kInvalidInput, "write: the request has problems", "The request has problems.");
  }
  auto lease = pool_.acquire();
  if (!lease) return tl::make_unexpected(lease.error());
  std::unique_ptr<PgPendingWrite> pending;
  try {
    pending = std::make_unique<PgPendingWrite>(std::move(*lease));
    WriteOutcome out;
    if (request.kind != WriteRequest::Kind::kBatch) {
      out = Transaction(pending->tx(), request, requestId).run();
      if (out.refused) {
        out.written.clear();
        return out;  // pending is dropped: rolled back
      }
    } else {
      // Every entry's identifier lock first, in ascending order, on the batch's transaction (an
      // entry's savepoint keeps what it locked until the batch commits).
      std::set<int> buckets;
      for (const auto& w : request.entries) {
        if (w.conditional) buckets.insert(identifierBucket(w.type, w.condition.system, w.condition.value));
      }
      lockIdentifierBuckets(pending->tx(), std::vector<int>(buckets.begin(), buckets.end()));
      // Each entry on its own, behind a savepoint: a refused or failed entry is undone alone (the
      // savepoint is PostgreSQL's own; after a failed statement only ROLLBACK TO SAVEPOINT is accepted).
      pqxx::work& tx = pending->tx();
      for (std::size_t i = 0; i < request.entries.size(); ++i) {
        const WriteRequest one = batchEntry(request, i);
        const int index = one.entries.front().index;
        tx.exec0("SAVEPOINT batch_entry");
        std::optional<WriteProblem> problem;
        try {
          WriteOutcome done = Transaction(tx, one, requestId).run();
          if (done.refused) {
            problem = *done.refused;
          } else {
            out.written.push_back(std::move(done.written.front()));
          }
        } catch (const pqxx::deadlock_detected&) {
          problem = WriteProblem{index, 503, "transient", kDeadlock};
        } catch (const pqxx::data_exception&) {
          problem = WriteProblem{index, 400, "invalid", kUnstorable};
        } catch (const pqxx::broken_connection&) {
          throw;  // the whole batch is lost
        } catch (const pqxx::sql_error& e) {
          problem = WriteProblem{index, 500, "exception", "Internal error."};
          if (out.internalError.empty()) out.internalError = e.what();
        }
        if (problem) {
          out.entryProblems.push_back(*problem);
          tx.exec0("ROLLBACK TO SAVEPOINT batch_entry");
        } else {
          tx.exec0("RELEASE SAVEPOINT batch_entry");
        }
      }
    }
    if (!out.written.empty()) out.pending = std::move(pending);
    return out;
  } catch (const pqxx::deadlock_detected& e) {
    return fail(ErrorCode::kUnavailable, std::string("write: ") + e.what(), kDeadlock);
  } catch (const pqxx::data_exception& e) {
    return fail(ErrorCode::kInvalidInput, std::string("write: ") + e.what(), kUnstorable);
  } catch (const pqxx::broken_connection& e) {
    return fail(ErrorCode::kUnavailable, std::string("write: lost the database connection: ") + e.what(),
                "The service is temporarily unavailable.");
  } catch (const std::exception& e) {
    return fail(ErrorCode::kInternal, std::string("write: ") + e.what(), "Internal error.");
  }
}

}  // namespace hie::exchange

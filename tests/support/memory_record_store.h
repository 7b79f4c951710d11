// An in-memory RecordStore for unit tests of handlers (the real store is
// tested against PostgreSQL in the integration tests).
#pragma once

#include <algorithm>
#include <map>

#include "exchange/records/record_store.h"

namespace hie::testing {

class MemoryRecordStore : public exchange::RecordStore {
 public:
  // identifiers: (system, value) pairs for Patient resources.
  void put(const std::string& type, const std::string& id, const std::string& patientId,
           std::vector<std::pair<std::string, std::string>> identifiers = {}) {
    resources_[{type, id}] = exchange::StoredResource{
        type, id, patientId, "{\"resourceType\":\"" + type + "\",\"id\":\"" + id + "\"}"};
    for (auto& i : identifiers) identifiers_[i] = patientId;
  }
  bool down = false;
  int calls = 0;

  Result<std::optional<exchange::StoredResource>> read(const std::string& type, const std::string& id) override {
    ++calls;
    if (down) return fail(ErrorCode::kUnavailable, "down", "The service is temporarily unavailable.");
    auto it = resources_.find({type, id});
    if (it == resources_.end()) return std::optional<exchange::StoredResource>();
    return std::optional<exchange::StoredResource>(it->second);
  }

  Result<std::optional<exchange::StoredResource>> readVersion(const std::string& type, const std::string& id,
                                                             int version) override {
    auto current = read(type, id);  // this store keeps only the current version
    if (current && *current && (*current)->version != version) return std::optional<exchange::StoredResource>();
    return current;
  }

  Result<exchange::SearchPage> search(const exchange::SearchSpec& spec) override {
    ++calls;
    if (down) return fail(ErrorCode::kUnavailable, "down", "The service is temporarily unavailable.");
    std::string patient = spec.patient.patientId;
    if (spec.patient.byIdentifier()) {
      auto it = identifiers_.find({spec.patient.system, spec.patient.value});
      patient = it == identifiers_.end() ? "\x01none" : it->second;
    }
    const bool excluded =
        std::find(spec.excludedPatients.begin(), spec.excludedPatients.end(), patient) != spec.excludedPatients.end();
    exchange::SearchPage page;
    for (const auto& [key, r] : resources_) {
      if (key.first != spec.resourceType || r.patientId != patient || excluded) continue;
      ++page.total;
      if (r.id <= spec.after) continue;
      if (static_cast<int>(page.items.size()) == spec.count) {
        page.more = true;
        continue;
      }
      page.items.push_back(r);
    }
    return page;
  }

 private:
  std::map<std::pair<std::string, std::string>, exchange::StoredResource> resources_;
  std::map<std::pair<std::string, std::string>, std::string> identifiers_;
};

}  // namespace hie::testing

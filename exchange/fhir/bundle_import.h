// Checking a FHIR Bundle for import (pure): every problem is reported with
// the entry's index, and a bundle with any problem is imported not at all.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace hie::exchange {

struct ImportResource {
  int index = 0;                 // entry index in the bundle
  std::string type;
  std::string id;
  std::string patientId;         // own id for Patient
  std::string json;              // resource with references to bundle patients rewritten as Patient/ID
  std::vector<std::pair<std::string, std::string>> identifiers;  // Patient: (system, value)
};

struct ImportProblem {
  int index;                     // -1 for the bundle itself
  std::string reason;
};

struct ImportCheck {
  std::vector<ImportResource> resources;
  // Patients referenced but not in the bundle: id -> first entry index referring to it.
  std::map<std::string, int> externalPatients;
  std::vector<ImportProblem> problems;
  bool ok() const { return problems.empty(); }
};

ImportCheck checkBundle(const std::string& bundleJson, const std::set<std::string>& supportedTypes);

}  // namespace hie::exchange

#include "exchange/fhir/bundle_import.h"

#include <Poco/JSON/Parser.h>

#include "common/utf8.h"
#include "exchange/fhir/exact_numbers.h"

#include "common/poco_json.h"
#include "exchange/fhir/fhir_request.h"
#include "exchange/fhir/resource_checks.h"

namespace hie::exchange {

using Poco::JSON::Array;
using Poco::JSON::Object;

ImportCheck checkBundle(const std::string& bundleJson, const std::set<std::string>& supportedTypes) {
  ImportCheck check;
  // JSON is UTF-8 (RFC 8259); say so plainly rather than through the parser's view of the bytes.
  if (const std::size_t at = validUtf8Prefix(bundleJson); at != bundleJson.size()) {
    check.problems.push_back({-1, "the file is not valid UTF-8 (first bad byte at offset " + std::to_string(at) + ")"});
    return check;
  }
  // Numbers are kept exactly as in the file (exact_numbers.h).
  HiddenNumbers hidden = hideNumbers(bundleJson);
  if (!hidden.ok) {
    check.problems.push_back({-1, "a string holds the control character U+0001, which FHIR strings may not"});
    return check;
  }
  Object::Ptr bundle;
  try {
    Poco::JSON::Parser parser;
    Poco::Dynamic::Var parsed = parser.parse(hidden.text);
    if (parsed.type() != typeid(Object::Ptr)) {
      check.problems.push_back({-1, "the file is JSON but not an object"});
      return check;
    }
    bundle = parsed.extract<Object::Ptr>();
  } catch (const Poco::Exception& e) {
    check.problems.push_back({-1, "not valid JSON: " + e.message()});
    return check;
  } catch (const std::exception& e) {
    check.problems.push_back({-1, std::string("not valid JSON: ") + e.what()});
    return check;
  }
  bool present = false;
  if (stringField(bundle, "resourceType", present) != "Bundle") {
    check.problems.push_back({-1, "resourceType must be Bundle"});
    return check;
  }
  const std::string type = stringField(bundle, "type", present);
  if (type != "collection" && type != "transaction") {
    check.problems.push_back({-1, "Bundle.type must be collection or transaction"});
    return check;
  }
  Array::Ptr entries = bundle->getArray("entry");
  if (!entries || entries->size() == 0) {
    check.problems.push_back({-1, "the bundle has no entries"});
    return check;
  }

  // First pass: resources, ids, and which fullUrls name which patients.
  std::map<std::string, std::string> patientByFullUrl;
  std::set<std::string> bundlePatients;
  std::set<std::pair<std::string, std::string>> seen;
  std::vector<Object::Ptr> resources(entries->size());
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const int index = static_cast<int>(i);
    Object::Ptr entry = entries->getObject(static_cast<unsigned>(i));
    Object::Ptr resource = entry ? entry->getObject("resource") : nullptr;
    if (!resource) {
      check.problems.push_back({index, "entry has no resource object"});
      continue;
    }
    const std::string rt = stringField(resource, "resourceType", present);
    if (!present || rt.empty()) {
      check.problems.push_back({index, "missing resourceType"});
      continue;
    }
    if (supportedTypes.count(rt) == 0) {
      check.problems.push_back({index, "unsupported or unknown resourceType '" + printableName(rt) + "'"});
      continue;
    }
    const std::string id = stringField(resource, "id", present);
    if (!present) {
      check.problems.push_back({index, "missing id"});
      continue;
    }
    if (!isValidFhirId(id)) {
      check.problems.push_back({index, "id is not a valid FHIR id"});
      continue;
    }
    if (!seen.emplace(rt, id).second) {
      check.problems.push_back({index, "duplicate " + rt + "/" + id + " in the bundle"});
      continue;
    }
    if (containsNul(Poco::Dynamic::Var(entry))) {
      check.problems.push_back({index, "contains a NUL character (\\u0000), which cannot be stored"});
      continue;
    }
    if (const auto r4 = r4Problems(resource, rt); !r4.empty()) {
      for (const auto& problem : r4) check.problems.push_back({index, problem});
      continue;
    }
    resources[i] = resource;
    if (rt == "Patient") {
      bundlePatients.insert(id);
      const std::string fullUrl = stringField(entry, "fullUrl", present);
      if (present && !fullUrl.empty()) patientByFullUrl[fullUrl] = id;
    }
  }

  // Second pass: patient references, identifiers.
  for (std::size_t i = 0; i < resources.size(); ++i) {
    Object::Ptr resource = resources[i];
    if (!resource) continue;
    const int index = static_cast<int>(i);
    ImportResource out;
    out.index = index;
    out.type = resource->getValue<std::string>("resourceType");
    out.id = resource->getValue<std::string>("id");
    if (out.type == "Patient") {
      out.patientId = out.id;
      if (Array::Ptr ids = resource->getArray("identifier")) {
        for (std::size_t k = 0; k < ids->size(); ++k) {
          Object::Ptr ident = ids->getObject(static_cast<unsigned>(k));
          if (!ident) continue;
          bool hasSystem = false, hasValue = false;
          std::string system = stringField(ident, "system", hasSystem);
          std::string value = stringField(ident, "value", hasValue);
          if (hasSystem && hasValue && !system.empty() && !value.empty()) out.identifiers.emplace_back(system, value);
        }
      }
    } else {
      const std::string field = patientReferenceField(out.type);
      Object::Ptr ref = resource->getObject(field);
      const std::string reference = ref ? stringField(ref, "reference", present) : std::string();
      if (reference.empty()) {
        check.problems.push_back({index, "no patient reference in " + field + ".reference"});
        continue;
      }
      if (auto byUrl = patientByFullUrl.find(reference); byUrl != patientByFullUrl.end()) {
        out.patientId = byUrl->second;
        ref->set("reference", "Patient/" + out.patientId);
      } else if (reference.compare(0, 8, "Patient/") == 0 && isValidFhirId(reference.substr(8))) {
        out.patientId = reference.substr(8);
        if (bundlePatients.count(out.patientId) == 0) check.externalPatients.emplace(out.patientId, index);
      } else {
        check.problems.push_back({index, field + ".reference must be Patient/ID or the fullUrl of a Patient in the bundle"});
        continue;
      }
    }
    out.json = restoreNumbers(pocoJsonText(Poco::Dynamic::Var(resource)), hidden.numbers);
    check.resources.push_back(std::move(out));
  }
  return check;
}

}  // namespace hie::exchange

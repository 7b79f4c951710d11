#include "exchange/fhir/resource_checks.h"

#include <cctype>
#include <sstream>

#include <Poco/JSON/Array.h>

#include "common/utf8.h"
#include "exchange/fhir/exact_numbers.h"
#include "exchange/fhir/fhir_request.h"
#include "exchange/fhir/r4_required_elements.h"

namespace hie::exchange {

using Poco::JSON::Array;
using Poco::JSON::Object;

namespace {

// Per entry: enough to fix a resource, bounded for a hostile one.
constexpr std::size_t kMaxR4Problems = 10;

}  // namespace

// Which field names the patient, per resource type (Patient: none).
const char* patientReferenceField(const std::string& type) {
  if (type == "Patient") return "";
  if (type == "AllergyIntolerance") return "patient";
  return "subject";  // DocumentReference, Observation, Condition, MedicationStatement, Encounter
}

std::string stringField(const Object::Ptr& o, const std::string& name, bool& present) {
  present = o && o->has(name) && o->get(name).isString();
  std::string value = present ? o->getValue<std::string>(name) : std::string();
  // A number of the document (held as a marker, exact_numbers.h) is no string.
  if (present && isNumberMarker(value)) {
    present = false;
    value.clear();
  }
  return value;
}

// PostgreSQL stores no NUL in text or jsonb, and libpq would cut a text
// parameter at one (an identifier "A\u0000B" would be stored as "A").
// Depth is bounded by the parser's limit.
bool containsNul(const Poco::Dynamic::Var& value) {
  if (value.type() == typeid(Object::Ptr)) {
    const Object::Ptr o = value.extract<Object::Ptr>();
    if (!o) return false;
    for (const auto& [name, member] : *o) {
      if (name.find('\0') != std::string::npos || containsNul(member)) return true;
    }
    return false;
  }
  if (value.type() == typeid(Array::Ptr)) {
    const Array::Ptr a = value.extract<Array::Ptr>();
    if (!a) return false;
    for (const auto& item : *a) {
      if (containsNul(item)) return true;
    }
    return false;
  }
  return value.isString() && value.extract<std::string>().find('\0') != std::string::npos;
}

// A name from the file as a problem may quote it: printable ASCII, bounded, so that a
// hostile key cannot write control sequences to the operator's terminal.
std::string printableName(const std::string& name) {
  std::string out;
  for (unsigned char c : name.substr(0, 64)) out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  return out;
}

namespace {

// FHIR R4's JSON rules (json.html, invariant ele-1): no empty string, array or object and
// no null, except null in an array of a primitive aligned with its "_name" array; and
// Extension.url wherever an extension is. Depth is bounded by the parser's limit.
void checkValues(const Poco::Dynamic::Var& value, const std::string& at, bool aligned, std::vector<std::string>& out) {
  if (out.size() >= kMaxR4Problems) return;
  if (value.isEmpty()) {
    if (!aligned) out.push_back(at + " is null; FHIR JSON has no null values (leave the element out)");
  } else if (value.type() == typeid(Object::Ptr)) {
    const Object::Ptr o = value.extract<Object::Ptr>();
    if (!o || o->size() == 0) {
      out.push_back(at + " is an empty object; FHIR allows no empty elements (leave it out)");
      return;
    }
    for (const auto& [name, member] : *o) {
      const std::string plain = name.compare(0, 1, "_") == 0 ? name.substr(1) : name;
      const bool pair = o->isArray(plain) && o->isArray("_" + plain);
      checkValues(member, at + "." + printableName(name), pair, out);
      if ((name == "extension" || name == "modifierExtension") && member.type() == typeid(Array::Ptr)) {
        const Array::Ptr list = member.extract<Array::Ptr>();
        for (std::size_t i = 0; list && i < list->size(); ++i) {
          const Object::Ptr ext = list->getObject(static_cast<unsigned>(i));
          if (ext && !ext->has("url")) {
            out.push_back(at + "." + name + "[" + std::to_string(i) + "].url is missing; FHIR R4 requires Extension.url");
          }
        }
      }
    }
  } else if (value.type() == typeid(Array::Ptr)) {
    const Array::Ptr a = value.extract<Array::Ptr>();
    if (!a || a->size() == 0) {
      out.push_back(at + " is an empty array; FHIR allows no empty elements (leave it out)");
      return;
    }
    for (std::size_t i = 0; i < a->size(); ++i) {
      checkValues(a->get(static_cast<unsigned>(i)), at + "[" + std::to_string(i) + "]", aligned, out);
    }
  } else if (value.isString() && value.extract<std::string>().empty()) {
    out.push_back(at + " is an empty string; FHIR allows no empty values (leave the element out)");
  }
}

// Is the last step of a required path present: the element, or only its primitive
// extension (_name); for a choice name[x], any of its typed properties.
bool hasElement(const Object::Ptr& o, const std::string& step) {
  if (step.size() < 3 || step.compare(step.size() - 3, 3, "[x]") != 0) return o->has(step) || o->has("_" + step);
  const std::string base = step.substr(0, step.size() - 3);
  for (const auto& [name, member] : *o) {
    const std::string plain = name.compare(0, 1, "_") == 0 ? name.substr(1) : name;
    if (plain.size() > base.size() && plain.compare(0, base.size(), base) == 0 && plain[base.size()] >= 'A' &&
        plain[base.size()] <= 'Z') {
      return true;
    }
  }
  return false;
}

// Walks steps[i..] of a required path through every occurrence present in o.
void checkRequired(const Object::Ptr& o, const std::vector<std::string>& steps, std::size_t i, const std::string& at,
                   const std::string& element, std::vector<std::string>& out) {
  if (out.size() >= kMaxR4Problems) return;
  if (i + 1 == steps.size()) {
    if (!hasElement(o, steps[i])) {
      out.push_back(at + "." + steps[i] + " is missing; FHIR R4 requires " + element + " (min 1)");
    }
    return;
  }
  if (!o->has(steps[i])) return;  // the parent is absent: nothing is required of it
  const Poco::Dynamic::Var v = o->get(steps[i]);
  if (v.type() == typeid(Array::Ptr)) {
    const Array::Ptr a = v.extract<Array::Ptr>();
    for (std::size_t k = 0; a && k < a->size(); ++k) {
      if (Object::Ptr item = a->getObject(static_cast<unsigned>(k))) {
        checkRequired(item, steps, i + 1, at + "." + steps[i] + "[" + std::to_string(k) + "]", element, out);
      }
    }
  } else if (v.type() == typeid(Object::Ptr)) {
    if (Object::Ptr item = v.extract<Object::Ptr>()) checkRequired(item, steps, i + 1, at + "." + steps[i], element, out);
  }
}

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> steps;
  std::stringstream in(path);
  std::string step;
  while (std::getline(in, step, '.')) steps.push_back(step);
  return steps;
}

// R4's required elements of one resource (type known), named from `at`.
void checkRequiredOf(const Object::Ptr& resource, const std::string& type, const std::string& at,
                     std::vector<std::string>& out) {
  for (const auto& required : r4RequiredElements()) {
    if (required.type == type) checkRequired(resource, splitPath(required.path), 0, at, type + "." + required.path, out);
  }
  // A resource's text is its Narrative.
  if (resource->getObject("text")) {
    checkRequired(resource, {"text", "status"}, 0, at, "Narrative.status", out);
    checkRequired(resource, {"text", "div"}, 0, at, "Narrative.div", out);
  }
}

}  // namespace

// Everything the node checks of R4 in one entry's resource of a served type.
std::vector<std::string> r4Problems(const Object::Ptr& resource, const std::string& type) {
  std::vector<std::string> out;
  checkValues(Poco::Dynamic::Var(resource), type, false, out);
  // The store merges meta.versionId and meta.lastUpdated into meta: it must be an object (a Meta).
  if (resource->has("meta") && !resource->get("meta").isEmpty() && !resource->isObject("meta")) {
    out.push_back(type + ".meta must be an object (a FHIR Meta)");
  }
  checkRequiredOf(resource, type, type, out);
  if (Array::Ptr contained = resource->getArray("contained")) {
    for (std::size_t i = 0; i < contained->size() && out.size() < kMaxR4Problems; ++i) {
      const std::string at = type + ".contained[" + std::to_string(i) + "]";
      Object::Ptr inner = contained->getObject(static_cast<unsigned>(i));
      bool present = false;
      const std::string innerType = inner ? stringField(inner, "resourceType", present) : std::string();
      if (!inner || innerType.empty()) {
        out.push_back(at + " is not a resource with a resourceType");
      } else if (!r4RequiredElementsKnown(innerType)) {
        out.push_back(at + " is a " + printableName(innerType) +
                      "; contained resources are accepted of the served types and Medication, Organization, "
                      "Location, Practitioner, PractitionerRole, whose R4 required elements are checked");
      } else if (inner->has("contained")) {
        out.push_back(at + " contains resources itself, which R4 forbids (dom-2)");
      } else {
        checkRequiredOf(inner, innerType, at, out);
      }
    }
  }
  return out;
}


std::vector<std::string> identifierProblems(const Object::Ptr& resource, const std::string& type) {
  std::vector<std::string> out;
  if (!resource->has("identifier")) return out;
  const Poco::Dynamic::Var list = resource->get("identifier");
  if (list.type() != typeid(Array::Ptr)) {
    out.push_back(type + ".identifier must be an array");
    return out;
  }
  const Array::Ptr ids = list.extract<Array::Ptr>();
  for (std::size_t k = 0; ids && k < ids->size() && out.size() < kMaxR4Problems; ++k) {
    const std::string at = type + ".identifier[" + std::to_string(k) + "]";
    const Object::Ptr ident = ids->getObject(static_cast<unsigned>(k));
    if (!ident) {
      out.push_back(at + " must be an object");
      continue;
    }
    bool hasValue = false, hasSystem = false;
    const std::string value = stringField(ident, "value", hasValue);
    const std::string system = stringField(ident, "system", hasSystem);
    if (!hasValue || !isPlainText(value, 256)) out.push_back(at + ".value must be a string of 1-256 printable characters");
    if (ident->has("system")) {
      const auto colon = system.find(':');
      const bool uri = hasSystem && isPlainText(system, 256) && system.find(' ') == std::string::npos && colon != std::string::npos &&
                       colon > 0 && std::isalpha(static_cast<unsigned char>(system[0]));
      if (!uri) out.push_back(at + ".system must be an absolute URI of at most 256 characters (urn:oid:..., https://...)");
    }
  }
  return out;
}

}  // namespace hie::exchange

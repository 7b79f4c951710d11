// Checks of one FHIR resource held as parsed Poco JSON, shared by the bundle
// importer (bundle_import.h) and the write API (fhir_write.h). An adapter:
// it names Poco::JSON, so only .cpp files of exchange/fhir include it.
#pragma once

#include <string>
#include <vector>

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Object.h>

namespace hie::exchange {

// Which element names the patient, per resource type: "" for Patient, "patient" for
// AllergyIntolerance, "subject" for the others.
const char* patientReferenceField(const std::string& type);

// o[name] when it is a string (present = true), else "" (present = false; also for a number of the
// document, which parsing holds as a marker string: exact_numbers.h); o may be null.
std::string stringField(const Poco::JSON::Object::Ptr& o, const std::string& name, bool& present);

// PostgreSQL stores no NUL in text or jsonb, and libpq would cut a text parameter at one.
bool containsNul(const Poco::Dynamic::Var& value);

// A name from the input as a problem may quote it: printable ASCII, at most 64 bytes.
std::string printableName(const std::string& name);

// FHIR R4's JSON rules (no null, no empty value) and required elements (r4_required_elements.h),
// also of contained resources, for one resource of a served type; at most 10 problems, each
// naming the element from `type`.
std::vector<std::string> r4Problems(const Poco::JSON::Object::Ptr& resource, const std::string& type);

// Identifiers the node relies on (patient lookups, conditional writes): every element of
// resource.identifier has a value of 1-256 printable characters and, when it has a system,
// an absolute URI (a scheme, no spaces or control characters) of at most 256 characters.
std::vector<std::string> identifierProblems(const Poco::JSON::Object::Ptr& resource, const std::string& type);

}  // namespace hie::exchange

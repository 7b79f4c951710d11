// The elements FHIR R4 requires (min >= 1 in the official 4.0.1
// StructureDefinitions) inside the resources the importer accepts. Pure data;
// tests/unit/exchange/bundle_import_test.cpp checks it against the official
// definitions (tests/tools/r4-required.js).
#pragma once

#include <string>
#include <vector>

namespace hie::exchange {

// path is relative to the resource, dot-separated; each step is an element
// that may repeat (every occurrence is checked), and the last step is
// required wherever its parent is present. A last step ending in "[x]" is a
// choice: any one of its typed properties (medicationCodeableConcept, …).
// Extension.url and the narrative's status and div apply wherever an
// extension or narrative occurs and are not listed.
struct RequiredElement {
  std::string type;
  std::string path;
};

const std::vector<RequiredElement>& r4RequiredElements();

// The types r4RequiredElements() covers: the seven the node can serve, and
// those it accepts as contained resources (Medication, Organization, Location,
// Practitioner, PractitionerRole).
bool r4RequiredElementsKnown(const std::string& type);

}  // namespace hie::exchange

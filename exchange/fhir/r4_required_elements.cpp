#include "exchange/fhir/r4_required_elements.h"

#include <set>

namespace hie::exchange {

const std::vector<RequiredElement>& r4RequiredElements() {
  // From the official R4 4.0.1 StructureDefinitions (profiles-resources.json and
  // profiles-types.json of the published definitions); the unit test compares.
  static const std::vector<RequiredElement> kRequired = {
      {"AllergyIntolerance", "note.text"},
      {"AllergyIntolerance", "patient"},
      {"AllergyIntolerance", "reaction.manifestation"},
      {"AllergyIntolerance", "reaction.note.text"},
      {"Condition", "note.text"},
      {"Condition", "subject"},
      {"DocumentReference", "content"},
      {"DocumentReference", "content.attachment"},
      {"DocumentReference", "relatesTo.code"},
      {"DocumentReference", "relatesTo.target"},
      {"DocumentReference", "status"},
      {"Encounter", "class"},
      {"Encounter", "classHistory.class"},
      {"Encounter", "classHistory.period"},
      {"Encounter", "diagnosis.condition"},
      {"Encounter", "location.location"},
      {"Encounter", "status"},
      {"Encounter", "statusHistory.period"},
      {"Encounter", "statusHistory.status"},
      {"Location", "position.latitude"},
      {"Location", "position.longitude"},
      {"Medication", "ingredient.item[x]"},
      {"MedicationStatement", "medication[x]"},
      {"MedicationStatement", "note.text"},
      {"MedicationStatement", "status"},
      {"MedicationStatement", "subject"},
      {"Observation", "code"},
      {"Observation", "component.code"},
      {"Observation", "component.valueSampledData.dimensions"},
      {"Observation", "component.valueSampledData.origin"},
      {"Observation", "component.valueSampledData.period"},
      {"Observation", "note.text"},
      {"Observation", "status"},
      {"Observation", "valueSampledData.dimensions"},
      {"Observation", "valueSampledData.origin"},
      {"Observation", "valueSampledData.period"},
      {"Patient", "communication.language"},
      {"Patient", "link.other"},
      {"Patient", "link.type"},
      {"Practitioner", "qualification.code"},
      {"PractitionerRole", "notAvailable.description"},
  };
  return kRequired;
}

bool r4RequiredElementsKnown(const std::string& type) {
  static const std::set<std::string> kTypes = {"Patient",      "DocumentReference", "Observation",
                                               "Condition",    "AllergyIntolerance", "MedicationStatement",
                                               "Encounter",    "Medication",        "Organization",
                                               "Location",     "Practitioner",      "PractitionerRole"};
  return kTypes.count(type) != 0;
}

}  // namespace hie::exchange

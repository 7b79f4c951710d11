#include "exchange/fhir/bundle_import.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "exchange/fhir/r4_required_elements.h"
#include "exchange/handlers/record_api.h"
#include "tests/support/fhir_validator.h"

namespace hie::exchange {
namespace {

std::string bundle(const std::string& entries, const std::string& type = "collection") {
  return R"({"resourceType":"Bundle","type":")" + type + R"(","entry":[)" + entries + "]}";
}

const std::string kPatient =
    R"({"fullUrl":"urn:uuid:11111111-1111-1111-1111-111111111111","resource":{"resourceType":"Patient","id":"p1",)"
    R"("identifier":[{"system":"urn:oid:2.16.840.1.113883.3.7000.1","value":"NET-1"},{"system":"mrn"}]}})";

// What R4 requires of every Observation (status and code).
const std::string kObservationCore = R"("status":"final","code":{"text":"HbA1c"})";

ImportCheck check(const std::string& json) { return checkBundle(json, defaultResourceTypes()); }

TEST(BundleImport, AcceptsPatientsAndTheirResources) {
  auto c = check(bundle(kPatient + R"(,{"resource":{"resourceType":"Observation","id":"o1",)" + kObservationCore +
                        R"(,"subject":{"reference":"Patient/p1"}}})"
                        R"(,{"resource":{"resourceType":"AllergyIntolerance","id":"a1","patient":{"reference":"urn:uuid:11111111-1111-1111-1111-111111111111"}}})",
                        "transaction"));
  ASSERT_TRUE(c.ok()) << c.problems.front().reason;
  ASSERT_EQ(c.resources.size(), 3u);
  EXPECT_EQ(c.resources[0].identifiers.size(), 1u);
  EXPECT_EQ(c.resources[1].patientId, "p1");
  EXPECT_EQ(c.resources[2].patientId, "p1");
  // The fullUrl reference is rewritten to the stored form.
  EXPECT_NE(c.resources[2].json.find("\"reference\":\"Patient/p1\""), std::string::npos) << c.resources[2].json;
  EXPECT_TRUE(c.externalPatients.empty());
}

TEST(BundleImport, ReferencesOutsideTheBundleAreListedForTheStoreToCheck) {
  auto c = check(bundle(R"({"resource":{"resourceType":"Observation","id":"o1",)" + kObservationCore +
                        R"(,"subject":{"reference":"Patient/p9"}}})"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.externalPatients.at("p9"), 0);
}

TEST(BundleImport, EveryBadEntryIsReportedWithItsIndex) {
  auto c = check(bundle(
      kPatient +
      R"(,{"resource":{"id":"x1"}})"                                                            // 1 no resourceType
      R"(,{"resource":{"resourceType":"Medication","id":"m1"}})"                                // 2 unsupported
      R"(,{"resource":{"resourceType":"Observation","subject":{"reference":"Patient/p1"}}})"    // 3 no id
      R"(,{"resource":{"resourceType":"Observation","id":"bad id","subject":{"reference":"Patient/p1"}}})"  // 4
      R"(,{"resource":{"resourceType":"Observation","id":"o5",)" + kObservationCore + "}}" +       // 5 no patient ref
      R"(,{"resource":{"resourceType":"Observation","id":"o6",)" + kObservationCore +
      R"(,"subject":{"reference":"Group/g1"}}})"  // 6
      R"(,{"resource":{"resourceType":"Patient","id":"p1"}})"                                   // 7 duplicate
      R"(,{"resource":{"resourceType":42,"id":"x"}})"                                           // 8 wrong type
      R"(,{"nothing":true})"));                                                                 // 9
  std::vector<int> indexes;
  for (const auto& p : c.problems) indexes.push_back(p.index);
  EXPECT_EQ(indexes, (std::vector<int>{1, 2, 3, 4, 7, 8, 9, 5, 6}));
  EXPECT_FALSE(c.ok());
}

TEST(BundleImport, BadBundlesAreRefusedAsAWhole) {
  for (const std::string& json :
       {std::string("not json"), std::string("[]"), std::string(R"({"resourceType":"Patient","id":"p1"})"),
        std::string(R"({"resourceType":"Bundle","type":"searchset","entry":[{}]})"),
        std::string(R"({"resourceType":"Bundle","type":"collection"})"),
        std::string(R"({"resourceType":"Bundle","type":"collection","entry":[]})"), std::string("{\"a\":")}) {
    auto c = check(json);
    ASSERT_FALSE(c.ok()) << json;
    EXPECT_EQ(c.problems.front().index, -1) << json;
  }
}

TEST(BundleImport, TextThatIsNotUtf8IsRefusedWithItsOffset) {
  const std::string good = bundle(kPatient);
  const std::string bad = good.substr(0, 40) + "\xc3\x28" + good.substr(40);
  auto c = check(bad);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.problems.front().index, -1);
  EXPECT_NE(c.problems.front().reason.find("not valid UTF-8"), std::string::npos) << c.problems.front().reason;
  EXPECT_NE(c.problems.front().reason.find("offset 40"), std::string::npos) << c.problems.front().reason;
  EXPECT_TRUE(check(bundle(R"({"resource":{"resourceType":"Patient","id":"p\u00e9"}})")).problems.size() == 1u);
  EXPECT_TRUE(check(bundle(R"({"resource":{"resourceType":"Patient","id":"p2","name":[{"family":"Jos\u00e9"}]}})")).ok());
  EXPECT_TRUE(check(bundle("{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p2\",\"name\":[{\"family\":\"Jos\xc3\xa9\"}]}}")).ok());
}

TEST(BundleImport, NulCharactersAreRefusedPerEntry) {
  // libpq would cut "NET-2\u0000X" to "NET-2": another patient's identifier.
  for (const std::string& entry :
       {std::string(R"({"resource":{"resourceType":"Patient","id":"p2","identifier":[{"system":"s","value":"NET-2\u0000X"}]}})"),
        std::string(R"({"resource":{"resourceType":"Patient","id":"p2","name":[{"family":"a\u0000"}]}})"),
        std::string(R"({"resource":{"resourceType":"Patient","id":"p2","extension":[[{"url":"\u0000"}]]}})")}) {
    auto c = check(bundle(kPatient + "," + entry));
    ASSERT_EQ(c.problems.size(), 1u) << entry;
    EXPECT_EQ(c.problems.front().index, 1) << entry;
    EXPECT_NE(c.problems.front().reason.find("NUL"), std::string::npos) << c.problems.front().reason;
  }
}

TEST(BundleImport, DeepNestingIsRefusedWithoutRecursingIntoIt) {
  for (const std::string& json : {std::string(100000, '['), std::string(100000, '[') + std::string(100000, ']'),
                                  bundle(R"({"resource":{"resourceType":"Patient","id":"p2","extension":)" +
                                         std::string(5000, '[') + std::string(5000, ']') + "}}")}) {
    auto c = check(json);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.problems.front().index, -1);
    EXPECT_NE(c.problems.front().reason.find("not valid JSON"), std::string::npos) << c.problems.front().reason;
  }
}

// One entry after kPatient (index 1): its problems' reasons.
std::vector<std::string> problemsOf(const std::string& entry) {
  auto c = check(bundle(kPatient + "," + entry));
  std::vector<std::string> reasons;
  for (const auto& p : c.problems) {
    EXPECT_EQ(p.index, 1) << p.reason;
    reasons.push_back(p.reason);
  }
  EXPECT_EQ(c.ok(), reasons.empty());
  return reasons;
}

std::string resource(const std::string& body) { return R"({"resource":{)" + body + "}}"; }

TEST(BundleImportR4, AResourceMissingAnElementR4RequiresIsRefusedNamingEntryAndElement) {
  const std::string doc = R"("resourceType":"DocumentReference","id":"d1","subject":{"reference":"Patient/p1"})";
  const std::string att = R"("attachment":{"contentType":"text/plain","data":"SGk="})";
  const std::string subject = R"("subject":{"reference":"Patient/p1"})";
  const std::vector<std::pair<std::string, std::string>> cases = {
      // The issue's case: a DocumentReference without content was stored and served.
      {resource(doc + R"(,"status":"current")"), "DocumentReference.content is missing; FHIR R4 requires DocumentReference.content (min 1)"},
      {resource(doc + R"(,"content":[{)" + att + "}]"), "DocumentReference.status is missing"},
      {resource(doc + R"(,"status":"current","content":[{)" + att + R"(},{"format":{"code":"urn:x"}}])"),
       "DocumentReference.content[1].attachment is missing; FHIR R4 requires DocumentReference.content.attachment"},
      {resource(doc + R"(,"status":"current","content":[{)" + att + R"(}],"relatesTo":[{"code":"replaces"}])"),
       "DocumentReference.relatesTo[0].target is missing"},
      {resource(R"("resourceType":"Observation","id":"o1","code":{"text":"x"},)" + subject), "Observation.status is missing"},
      {resource(R"("resourceType":"Observation","id":"o1","status":"final",)" + subject), "Observation.code is missing"},
      {resource(R"("resourceType":"Observation","id":"o1",)" + kObservationCore + "," + subject +
                R"(,"component":[{"valueString":"a"}])"),
       "Observation.component[0].code is missing"},
      {resource(R"("resourceType":"Observation","id":"o1",)" + kObservationCore + "," + subject +
                R"(,"note":[{"authorString":"dr"}])"),
       "Observation.note[0].text is missing; FHIR R4 requires Observation.note.text"},
      {resource(R"("resourceType":"Observation","id":"o1",)" + kObservationCore + "," + subject +
                R"(,"valueSampledData":{"period":1,"dimensions":1})"),
       "Observation.valueSampledData.origin is missing"},
      {resource(R"("resourceType":"Condition","id":"c1","code":{"text":"x"})"), "Condition.subject is missing"},
      {resource(R"("resourceType":"AllergyIntolerance","id":"a1","patient":{"reference":"Patient/p1"},"reaction":[{"severity":"mild"}])"),
       "AllergyIntolerance.reaction[0].manifestation is missing"},
      {resource(R"("resourceType":"MedicationStatement","id":"m1","status":"active",)" + subject),
       "MedicationStatement.medication[x] is missing"},
      {resource(R"("resourceType":"Encounter","id":"e1","status":"finished",)" + subject), "Encounter.class is missing"},
      {resource(R"("resourceType":"Encounter","id":"e1","class":{"code":"AMB"},)" + subject), "Encounter.status is missing"},
      {resource(R"("resourceType":"Patient","id":"p2","link":[{"other":{"reference":"Patient/p1"}}])"),
       "Patient.link[0].type is missing"},
      {resource(R"("resourceType":"Patient","id":"p2","text":{"status":"generated"})"),
       "Patient.text.div is missing; FHIR R4 requires Narrative.div"},
      {resource(R"("resourceType":"Patient","id":"p2","name":[{"family":"X","extension":[{"valueString":"v"}]}])"),
       "Patient.name[0].extension[0].url is missing; FHIR R4 requires Extension.url"},
      {resource(R"("resourceType":"MedicationStatement","id":"m1","status":"active","medicationReference":{"reference":"#med"},)" +
                subject + R"(,"contained":[{"resourceType":"Medication","id":"med","ingredient":[{"strength":{"numerator":{"value":1}}}]}])"),
       "MedicationStatement.contained[0].ingredient[0].item[x] is missing"},
      {resource(R"("resourceType":"Patient","id":"p2","contained":[{"resourceType":"Binary","id":"b","contentType":"text/plain"}])"),
       "Patient.contained[0] is a Binary; contained resources are accepted of the served types"},
      {resource(R"("resourceType":"Patient","id":"p2","contained":[{"resourceType":"Organization","id":"o",)"
                R"("contained":[{"resourceType":"Organization","id":"o2"}]}])"),
       "Patient.contained[0] contains resources itself"},
  };
  for (const auto& [entry, says] : cases) {
    const auto reasons = problemsOf(entry);
    ASSERT_FALSE(reasons.empty()) << entry;
    EXPECT_NE(reasons.front().find(says), std::string::npos) << "expected '" << says << "' in: " << reasons.front();
  }
}

TEST(BundleImportR4, EmptyValuesAreRefusedAndWhatR4AllowsIsAccepted) {
  const std::vector<std::pair<std::string, std::string>> refused = {
      {R"("gender":"")", "Patient.gender is an empty string"},
      {R"("name":[])", "Patient.name is an empty array"},
      {R"("meta":{})", "Patient.meta is an empty object"},
      {R"("birthDate":null)", "Patient.birthDate is null"},
      {R"("name":[{"given":["A",""]}])", "Patient.name[0].given[1] is an empty string"},
      {R"("name":[{"given":["A",null]}])", "Patient.name[0].given[1] is null"},
      // A name quoted in a problem cannot carry control sequences to the operator's terminal.
      {R"("x\u001b[2J":"")", "Patient.x?[2J is an empty string"},
  };
  for (const auto& [field, says] : refused) {
    const auto reasons = problemsOf(resource(R"("resourceType":"Patient","id":"p2",)" + field));
    ASSERT_FALSE(reasons.empty()) << field;
    EXPECT_NE(reasons.front().find(says), std::string::npos) << "expected '" << says << "' in: " << reasons.front();
  }
  const std::string subject = R"("subject":{"reference":"Patient/p1"})";
  for (const std::string& ok : {
           // A required primitive may be only its extension (e.g. data-absent-reason).
           resource(R"("resourceType":"Observation","id":"o1","_status":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]},"code":{"text":"x"},)" + subject),
           // null keeps a primitive array aligned with its extensions.
           resource(R"("resourceType":"Patient","id":"p2","name":[{"given":["A",null],"_given":[null,{"extension":[{"url":"u","valueString":"x"}]}]}])"),
           resource(R"("resourceType":"MedicationStatement","id":"m1","status":"active","medicationReference":{"reference":"#med"},)" +
                    subject + R"(,"contained":[{"resourceType":"Medication","id":"med","ingredient":[{"itemCodeableConcept":{"text":"x"}}]}])"),
           resource(R"("resourceType":"Patient","id":"p2","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">A</div>"})"),
       }) {
    const auto reasons = problemsOf(ok);
    EXPECT_TRUE(reasons.empty()) << ok << ": " << (reasons.empty() ? "" : reasons.front());
  }
}

TEST(BundleImportR4, ABundleWithOneInvalidResourceYieldsNothingToStore) {
  // The importer stores only a bundle without problems (records import, one transaction).
  auto c = check(bundle(kPatient + "," + resource(R"("resourceType":"DocumentReference","id":"d1","status":"current",)"
                                                  R"("subject":{"reference":"Patient/p1"})")));
  EXPECT_FALSE(c.ok());
  ASSERT_EQ(c.problems.size(), 1u);
  EXPECT_EQ(c.problems.front().index, 1);
}

TEST(BundleImportR4, TheDemoBundleMeetsR4) {
  std::ifstream in(std::string(HIE_SOURCE_DIR) + "/config/demo/bundle.json");
  std::stringstream text;
  text << in.rdbuf();
  auto c = check(text.str());
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.problems.front().reason);
  EXPECT_EQ(c.resources.size(), 30u);
}

// The table is the official definitions' (tests/tools/r4-required.js reads them), not memory.
TEST(BundleImportR4, RequiredElementsAreThoseOfTheOfficialR4Definitions) {
  std::set<std::string> types;
  std::set<std::string> table;
  for (const auto& r : r4RequiredElements()) {
    types.insert(r.type);
    table.insert(r.type + " " + r.path);
  }
  for (const auto& t : defaultResourceTypes()) {
    types.insert(t);
    EXPECT_TRUE(r4RequiredElementsKnown(t)) << t;
  }
  for (const char* t : {"Medication", "Organization", "Location", "Practitioner", "PractitionerRole"}) {
    types.insert(t);
    EXPECT_TRUE(r4RequiredElementsKnown(t)) << t;
  }
  auto r = hie::testing::runFhirTool("r4-required.js", std::vector<std::string>(types.begin(), types.end()));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  std::set<std::string> official;
  std::stringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) official.insert(line);
  }
  EXPECT_EQ(table, official);
}

}  // namespace
}  // namespace hie::exchange

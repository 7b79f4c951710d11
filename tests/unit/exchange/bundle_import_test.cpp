#include "exchange/bundle_import.h"

#include <gtest/gtest.h>

#include "exchange/record_api.h"

namespace hie::exchange {
namespace {

std::string bundle(const std::string& entries, const std::string& type = "collection") {
  return R"({"resourceType":"Bundle","type":")" + type + R"(","entry":[)" + entries + "]}";
}

const std::string kPatient =
    R"({"fullUrl":"urn:uuid:11111111-1111-1111-1111-111111111111","resource":{"resourceType":"Patient","id":"p1",)"
    R"("identifier":[{"system":"urn:oid:2.16.840.1.113883.3.7000.1","value":"NET-1"},{"system":"mrn"}]}})";

ImportCheck check(const std::string& json) { return checkBundle(json, defaultResourceTypes()); }

TEST(BundleImport, AcceptsPatientsAndTheirResources) {
  auto c = check(bundle(kPatient + R"(,{"resource":{"resourceType":"Observation","id":"o1","subject":{"reference":"Patient/p1"}}})"
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
  auto c = check(bundle(R"({"resource":{"resourceType":"Observation","id":"o1","subject":{"reference":"Patient/p9"}}})"));
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
      R"(,{"resource":{"resourceType":"Observation","id":"o5"}})"                               // 5 no patient ref
      R"(,{"resource":{"resourceType":"Observation","id":"o6","subject":{"reference":"Group/g1"}}})"  // 6
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

}  // namespace
}  // namespace hie::exchange

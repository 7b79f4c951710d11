// Numbers kept exactly as received through parsing and writing out again (exact_numbers.h).
#include "exchange/fhir/exact_numbers.h"

#include <gtest/gtest.h>

#include <Poco/JSON/Parser.h>

#include "common/poco_json.h"
#include "exchange/fhir/fhir_write.h"
#include "exchange/handlers/record_api.h"

namespace hie::exchange {
namespace {

std::string roundTrip(const std::string& json) {
  const HiddenNumbers hidden = hideNumbers(json);
  EXPECT_TRUE(hidden.ok);
  Poco::JSON::Parser parser;
  return restoreNumbers(pocoJsonText(parser.parse(hidden.text)), hidden.numbers);
}

TEST(ExactNumbers, EveryNumberComesBackAsItWasWritten) {
  EXPECT_EQ(roundTrip(R"({"a":1.50,"b":18446744073709551617,"c":-9223372036854775809,"d":0.1234567890123456789})"),
            R"({"a":1.50,"b":18446744073709551617,"c":-9223372036854775809,"d":0.1234567890123456789})");
  EXPECT_EQ(roundTrip(R"({"e":[1E400,-0,2.5e-3,0]})"), R"({"e":[1E400,-0,2.5e-3,0]})");
  // Strings that look like numbers stay strings; literals stay literals.
  EXPECT_EQ(roundTrip(R"({"s":"1.50","t":true,"n":[null,false]})"), R"({"n":[null,false],"s":"1.50","t":true})");
  EXPECT_EQ(roundTrip(R"({"q":"say \"2\" \\ 3"})"), R"({"q":"say \"2\" \\ 3"})");
}

TEST(ExactNumbers, WhatIsNoJsonNumberIsLeftForTheParserToRefuse) {
  for (const std::string bad : {R"({"a":01})", R"({"a":1.})", R"({"a":.5})", R"({"a":1e})", R"({"a":-})",
                                R"({"a":1.2.3})", R"({"a":1x})"}) {
    const HiddenNumbers hidden = hideNumbers(bad);
    Poco::JSON::Parser parser;
    EXPECT_ANY_THROW(parser.parse(hidden.text)) << bad << " -> " << hidden.text;
  }
}

TEST(ExactNumbers, AStringHoldingTheMarkerCharacterIsRefused) {
  EXPECT_FALSE(hideNumbers(R"({"a":"x\u0001y"})").ok);
  EXPECT_FALSE(hideNumbers("{\"a\":\"x\x01y\"}").ok);
  EXPECT_TRUE(hideNumbers(R"({"a":"x\\u0001y"})").ok) << "a backslash, then u0001: no control character";
  EXPECT_EQ(roundTrip(R"({"a":"x\\u0001y","b":7})"), R"({"a":"x\\u0001y","b":7})");
  EXPECT_TRUE(isNumberMarker("\x01" "12"));
  EXPECT_FALSE(isNumberMarker("\x01"));
  EXPECT_FALSE(isNumberMarker("12"));
}

TEST(ExactNumbers, AWrittenResourceKeepsItsNumbers) {
  const std::string body =
      R"({"resourceType":"Observation","id":"o1","status":"final","code":{"text":"creatinine"},)"
      R"("subject":{"reference":"Patient/p1"},"valueQuantity":{"value":1.50,"unit":"mg/dL"},)"
      R"("component":[{"code":{"text":"big"},"valueInteger":2147483647}]})";
  const WriteRequest r = parseSingleWrite("PUT", "Observation/o1", {}, body, "", "", defaultResourceTypes());
  ASSERT_TRUE(r.ok()) << r.problems[0].text;
  const Finalized f = finalizeWrites(r, {{0, "o1"}});
  ASSERT_EQ(f.resources.size(), 1u);
  EXPECT_NE(f.resources[0].json.find(R"("value":1.50)"), std::string::npos) << f.resources[0].json;
  EXPECT_NE(f.resources[0].json.find(R"("valueInteger":2147483647)"), std::string::npos) << f.resources[0].json;
  // A number where the node expects a string is refused, not taken for one.
  const WriteRequest numericId = parseSingleWrite(
      "PUT", "Observation/o1", {}, R"({"resourceType":"Observation","id":5,"status":"final","code":{"text":"x"},)"
                                    R"("subject":{"reference":"Patient/p1"}})",
      "", "", defaultResourceTypes());
  EXPECT_FALSE(numericId.ok());
}

}  // namespace
}  // namespace hie::exchange

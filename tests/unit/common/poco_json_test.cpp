#include "common/poco_json.h"

#include <gtest/gtest.h>

#include <limits>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

namespace hie {
namespace {

Poco::Dynamic::Var parse(const std::string& text) { return Poco::JSON::Parser().parse(text); }

TEST(PocoJson, ReEmitsParsedDocumentsWithSortedKeysAndTheParsersNumbers) {
  EXPECT_EQ(pocoJsonText(parse(R"({"b":[1,-2,7.25,true,false,null,"x"],"a":{"z":{},"y":[]}})")),
            R"({"a":{"y":[],"z":{}},"b":[1,-2,7.25,true,false,null,"x"]})");
  EXPECT_EQ(pocoJsonText(parse("[0.1, 1e+20, -0.5, 123456789012]")), "[0.1,1e+20,-0.5,123456789012]");
}

TEST(PocoJson, EscapesStringsAsJsonWriterDoes) {
  const std::string text = pocoJsonText(parse(R"({"k\"":"a\"b\\c\n\u0001/\u00e9"})"));
  EXPECT_EQ(text, "{\"k\\\"\":\"a\\\"b\\\\c\\n\\u0001/\xc3\xa9\"}");
  Poco::JSON::Object built;
  built.set("bad", std::string("\xff"));
  EXPECT_EQ(pocoJsonText(built), R"({"bad":"\ufffd"})");
}

TEST(PocoJson, ANumberJsonCannotHoldBecomesNull) {
  Poco::JSON::Object built;
  built.set("inf", std::numeric_limits<double>::infinity());
  built.set("nan", std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(pocoJsonText(built), R"({"inf":null,"nan":null})");
}

}  // namespace
}  // namespace hie

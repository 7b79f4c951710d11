#include "common/json_writer.h"

#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

namespace hie {
namespace {

using namespace std::string_literals;

// Parsed back with a real JSON parser (Poco's, which refuses malformed UTF-8).
std::string roundTrip(const std::string& text) {
  JsonWriter json;
  json.beginObject().member("v", text).endObject();
  const std::string doc = json.take();
  Poco::JSON::Parser parser;
  return parser.parse(doc).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("v");
}

TEST(JsonWriter, EscapesQuotesBackslashesAndControlBytes) {
  EXPECT_EQ(jsonString("plain"), "\"plain\"");
  EXPECT_EQ(jsonString("a\"b\\c/d"), R"("a\"b\\c/d")");
  EXPECT_EQ(jsonString("\b\t\n\f\r"), R"("\b\t\n\f\r")");
  EXPECT_EQ(jsonString("\x01\x1f\x7f"s), R"("\u0001\u001f\u007f")");
  EXPECT_EQ(jsonString("nul\0x"s), R"("nul\u0000x")");
  EXPECT_EQ(jsonString("\"},\"admin\":true,\"x\":{\""), R"("\"},\"admin\":true,\"x\":{\"")");
  for (int c = 0; c < 0x80; ++c) {
    const std::string one(1, static_cast<char>(c));
    EXPECT_EQ(roundTrip(one), one) << c;
  }
}

TEST(JsonWriter, KeepsWellFormedUtf8AndReplacesEveryOtherByte) {
  // Well-formed: 2, 3 and 4 bytes, the edges of each range.
  for (const std::string& ok : {"caf\xc3\xa9"s, "\xe2\x82\xac"s, "\xf0\x9f\x98\x80"s, "\xc2\x80"s, "\xdf\xbf"s,
                                "\xe0\xa0\x80"s, "\xed\x9f\xbf"s, "\xee\x80\x80"s, "\xf0\x90\x80\x80"s,
                                "\xf4\x8f\xbf\xbf"s, "\xe2\x80\xa8"s}) {
    EXPECT_EQ(jsonString(ok), "\"" + ok + "\"");
    EXPECT_EQ(roundTrip(ok), ok);
  }
  // Malformed: each byte that is not part of a well-formed sequence becomes U+FFFD.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"\xff", R"("\ufffd")"},
      {"a\xfe\xff" "b", R"("a\ufffd\ufffdb")"},
      {"\xc0\xaf", R"("\ufffd\ufffd")"},              // overlong '/'
      {"\xe0\x80\xaf", R"("\ufffd\ufffd\ufffd")"},    // overlong
      {"\xed\xa0\x80", R"("\ufffd\ufffd\ufffd")"},    // UTF-16 surrogate D800
      {"\xf4\x90\x80\x80", R"("\ufffd\ufffd\ufffd\ufffd")"},  // past U+10FFFF
      {"\xf5\x80\x80\x80", R"("\ufffd\ufffd\ufffd\ufffd")"},
      {"cut\xe2\x82", R"("cut\ufffd\ufffd")"},        // truncated at the end
      {"\xe2\x82x", R"("\ufffd\ufffdx")"},             // truncated in the middle
      {"\x80", R"("\ufffd")"},                         // lone continuation byte
      {"\xc3\xa9\xc3", "\"\xc3\xa9\\ufffd\""},
  };
  for (const auto& [in, out] : cases) {
    EXPECT_EQ(jsonString(in), out);
    EXPECT_NO_THROW(roundTrip(in));
  }
  // Every single byte and every pair of bytes: the document always parses.
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; b += 7) {
      const std::string text{static_cast<char>(a), static_cast<char>(b), '\xbf'};
      EXPECT_NO_THROW(roundTrip(text)) << a << " " << b;
    }
  }
}

TEST(JsonWriter, BuildsStructureAroundRawValuesAndNumbers) {
  JsonWriter json;
  json.beginObject().member("resourceType", "Bundle").member("total", 3LL).member("count", 2).member("more", false);
  json.key("link").beginArray();
  json.beginObject().member("url", "https://a.example/x?y=1&z=\"").endObject();
  json.beginObject().endObject();
  json.endArray();
  json.key("entry").beginArray().rawValue(R"({"id": "p-1"})").rawValue("[1, 2]").endArray();
  json.key("k\"ey").value(true);
  json.key("empty").beginArray().endArray();
  json.endObject();
  EXPECT_EQ(json.take(),
            R"({"resourceType":"Bundle","total":3,"count":2,"more":false,"link":[{"url":"https://a.example/x?y=1&z=\""},{}],)"
            R"("entry":[{"id": "p-1"},[1, 2]],"k\"ey":true,"empty":[]})");
  JsonWriter scalar;
  EXPECT_EQ(scalar.value(-7).take(), "-7");
}

TEST(JsonWriterDeathTest, MisuseAborts) {
  EXPECT_DEATH({ JsonWriter().beginObject().value("no key"); }, "misuse");
  EXPECT_DEATH({ JsonWriter().beginArray().key("k"); }, "misuse");
  EXPECT_DEATH({ JsonWriter().beginObject().endArray(); }, "misuse");
  EXPECT_DEATH({ JsonWriter().beginObject().key("k").endObject(); }, "misuse");
  EXPECT_DEATH({ JsonWriter().beginObject().take(); }, "misuse");
  EXPECT_DEATH({ JsonWriter().value(1).value(2); }, "misuse");
  EXPECT_DEATH({ JsonWriter().beginArray().rawValue(""); }, "misuse");
}

}  // namespace
}  // namespace hie

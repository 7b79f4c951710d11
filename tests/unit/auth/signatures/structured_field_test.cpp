#include "auth/signatures/structured_field.h"

#include <gtest/gtest.h>

#include <string>

#include "common/result.h"

namespace hie::auth::sf {
namespace {

std::string roundTripDictionary(const std::string& text) {
  auto d = parseDictionary(text);
  EXPECT_TRUE(d) << text << ": " << (d ? "" : d.error().internal);
  return d ? serializeDictionary(*d) : "";
}

std::string roundTripList(const std::string& text) {
  auto l = parseList(text);
  EXPECT_TRUE(l) << text << ": " << (l ? "" : l.error().internal);
  return l ? serializeList(*l) : "";
}

TEST(StructuredField, ParsesEveryBareItemType) {
  auto d = parseDictionary(R"(i=-42, d=1.50, s="a \"q\" \\", t=foo/bar:baz, b=:aGVsbG8=:, y=?1, n=?0, k)");
  ASSERT_TRUE(d) << d.error().internal;
  ASSERT_EQ(d->size(), 8u);
  EXPECT_EQ((*d)[0].second.item.value, BareItem::ofInteger(-42));
  EXPECT_EQ((*d)[1].second.item.value.kind, BareItem::Kind::kDecimal);
  EXPECT_EQ((*d)[1].second.item.value.text, "1.5");
  EXPECT_EQ((*d)[2].second.item.value, BareItem::ofString("a \"q\" \\"));
  EXPECT_EQ((*d)[3].second.item.value, BareItem::ofToken("foo/bar:baz"));
  EXPECT_EQ((*d)[4].second.item.value, BareItem::ofBytes("hello"));
  EXPECT_EQ((*d)[5].second.item.value, BareItem::ofBoolean(true));
  EXPECT_EQ((*d)[6].second.item.value, BareItem::ofBoolean(false));
  EXPECT_EQ((*d)[7].second.item.value, BareItem::ofBoolean(true));
  EXPECT_EQ(serializeDictionary(*d), R"(i=-42, d=1.5, s="a \"q\" \\", t=foo/bar:baz, b=:aGVsbG8=:, y, n=?0, k)");
}

TEST(StructuredField, SerialisesCanonically) {
  EXPECT_EQ(roundTripDictionary("a=1,    b=2;x=1;y=2,   c=(a   b   c)"), "a=1, b=2;x=1;y=2, c=(a b c)");
  EXPECT_EQ(roundTripDictionary("  a=?1;p=?1 ,b=(1 2);q=\"x\"  "), "a;p, b=(1 2);q=\"x\"");
  EXPECT_EQ(roundTripDictionary("a=(), b=( );z"), "a=(), b=();z");
  EXPECT_FALSE(parseDictionary("b=() ;z"));  // parameters follow ")" directly
  EXPECT_EQ(roundTripList("sugar, tea, rum"), "sugar, tea, rum");
  EXPECT_EQ(roundTripList("(\"foo\" \"bar\");lvl=5, (\"baz\");lvl=1"), "(\"foo\" \"bar\");lvl=5, (\"baz\");lvl=1");
  EXPECT_EQ(roundTripList("0.000, -0.0, 007.100, 123456789012.123"), "0.0, 0.0, 7.1, 123456789012.123");
  EXPECT_EQ(roundTripList(":aGVsbG8:"), ":aGVsbG8=:");  // padding may be missing (RFC 8941 4.2.7)
  EXPECT_EQ(roundTripList(""), "");
}

TEST(StructuredField, LaterDuplicatesWinUnlessRefused) {
  auto d = parseDictionary("a=1, b=2, a=3");
  ASSERT_TRUE(d);
  EXPECT_EQ(serializeDictionary(*d), "a=3, b=2");
  EXPECT_FALSE(parseDictionary("a=1, b=2, a=3", Duplicates::kRefuse));
  auto i = parseItem("1;a=1;b;a=2");
  ASSERT_TRUE(i);
  EXPECT_EQ(serializeItem(*i), "1;a=2;b");
}

TEST(StructuredField, RefusesMalformedInput) {
  const char* kBad[] = {
      "a=",                  // no value
      "a=1,",                // trailing comma
      "a=1 b=2",             // no comma
      "A=1",                 // key must be lower case
      "1=1",                 // key must not start with a digit
      "a=\"unterminated",    // string not closed
      "a=\"bad \\n escape\"",  // only \" and \\ escape
      "a=\"tab\there\"",     // control character in a string
      "a=\"caf\xc3\xa9\"",   // non-ASCII in a string
      "a=:not base64!:",     // byte sequence alphabet
      "a=:aGVsbG8",          // byte sequence not closed
      "a=:a=b=:",            // padding in the middle
      "a=:aGVsbG8===:",      // too much padding
      "a=:a:",               // a lone base64 character
      "a=?2",                // boolean
      "a=?",                 // boolean without value
      "a=1234567890123456",  // 16-digit integer
      "a=1234567890123.1",   // 13 integer digits in a decimal
      "a=1.2345",            // 4 fractional digits
      "a=1.",                // decimal ends with '.'
      "a=1..2",              // two dots
      "a=-",                 // sign without digits
      "a=(1 2",              // inner list not closed
      "a=(1,2)",             // comma inside an inner list
      "a=((1))",             // nested inner list
      "a=@123",              // a date (RFC 9651), not in RFC 8941
      "a=%\"x\"",            // a display string (RFC 9651)
      "a=1;",                // parameter without key
      "a=1;P=1",             // parameter key upper case
      "\ta=1",               // leading tab (only SP is discarded)
  };
  for (const char* text : kBad) EXPECT_FALSE(parseDictionary(text)) << text;
  EXPECT_FALSE(parseList("a, , b"));
  EXPECT_FALSE(parseItem("1, 2"));
  EXPECT_FALSE(parseItem(""));
}

TEST(StructuredField, IntegerLimits) {
  auto max = parseItem("999999999999999");
  ASSERT_TRUE(max);
  EXPECT_EQ(max->value.integer, 999999999999999);
  auto min = parseItem("-999999999999999");
  ASSERT_TRUE(min);
  EXPECT_EQ(min->value.integer, -999999999999999);
}

// What a peer can send in ~100 header lines of 8 KiB. Before the bounds, keys were each checked
// against all earlier ones: 160k of them took a minute. The assertions are on the refusal only.
TEST(StructuredField, BoundsMembersItemsAndParameters) {
  std::string members;
  for (std::size_t i = 0; i < kMaxMembers; ++i) members += (i ? ", k" : "k") + std::to_string(i) + "=1";
  ASSERT_TRUE(parseDictionary(members));
  EXPECT_EQ(parseDictionary(members)->size(), kMaxMembers);
  auto tooMany = parseDictionary(members + ", k" + std::to_string(kMaxMembers) + "=1");
  ASSERT_FALSE(tooMany);
  EXPECT_EQ(tooMany.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(tooMany.error().internal.find("more than 64 members"), std::string::npos) << tooMany.error().internal;
  // A repeated key replaces, it does not add a member.
  EXPECT_TRUE(parseDictionary(members + ", k0=2"));

  std::string list;
  for (std::size_t i = 0; i < kMaxMembers; ++i) list += i ? ", 1" : "1";
  EXPECT_TRUE(parseList(list));
  EXPECT_FALSE(parseList(list + ", 1"));

  std::string items;
  for (std::size_t i = 0; i < kMaxInnerListItems; ++i) items += i ? " 1" : "1";
  EXPECT_TRUE(parseList("(" + items + ")"));
  EXPECT_FALSE(parseList("(" + items + " 1)"));

  std::string params;
  for (std::size_t i = 0; i < kMaxParameters; ++i) params += ";p" + std::to_string(i);
  EXPECT_TRUE(parseItem("1" + params));
  EXPECT_TRUE(parseItem("1" + params + ";p0=2"));  // a repeated parameter replaces
  EXPECT_FALSE(parseItem("1" + params + ";q"));
  EXPECT_FALSE(parseList("(1)" + params + ";q"));
  EXPECT_FALSE(parseDictionary("a" + params + ";q"));
  EXPECT_FALSE(parseDictionary("a=(1" + params + ";q)"));

  // Hostile sizes: ~800 KB each, refused at the first member or parameter over the bound.
  std::string hugeDictionary;
  std::string hugeList;
  std::string hugeParameters = R"(sig1=("@method"))";
  std::string hugeInnerList = "(";
  for (int i = 0; hugeDictionary.size() < 800000; ++i) {
    hugeDictionary += (i ? ", a" : "a") + std::to_string(i) + "=:AAAA:";
    hugeList += i ? ", 1" : "1";
    hugeParameters += ";p" + std::to_string(i);
    hugeInnerList += " \"x-" + std::to_string(i) + "\"";
  }
  EXPECT_FALSE(parseDictionary(hugeDictionary));
  EXPECT_FALSE(parseDictionary(hugeDictionary, Duplicates::kRefuse));
  EXPECT_FALSE(parseList(hugeList));
  EXPECT_FALSE(parseDictionary(hugeParameters));
  EXPECT_FALSE(parseList(hugeInnerList + ")"));
}

TEST(StructuredField, Keys) {
  EXPECT_TRUE(isKey("sig1"));
  EXPECT_TRUE(isKey("*a.b-c_d"));
  EXPECT_FALSE(isKey(""));
  EXPECT_FALSE(isKey("Sig1"));
  EXPECT_FALSE(isKey("1sig"));
}

}  // namespace
}  // namespace hie::auth::sf

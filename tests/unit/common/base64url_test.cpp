#include <gtest/gtest.h>

#include <string>

#include "common/base64.h"

namespace hie {
namespace {

using namespace std::string_literals;

TEST(Base64Url, EncodesRfc4648Section5WithoutPadding) {
  // RFC 4648 section 10 vectors, with the padding taken off.
  EXPECT_EQ(base64UrlEncode(""), "");
  EXPECT_EQ(base64UrlEncode("f"), "Zg");
  EXPECT_EQ(base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(base64UrlEncode("foob"), "Zm9vYg");
  EXPECT_EQ(base64UrlEncode("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64UrlEncode("foobar"), "Zm9vYmFy");
  // The two characters that differ from section 4.
  EXPECT_EQ(base64UrlEncode("\xfb\xff\xbf"s), "-_-_");
  EXPECT_EQ(base64Encode("\xfb\xff\xbf"s), "+/+/");
  // RFC 7515 A.1: the header {"typ":"JWT",\r\n "alg":"HS256"}.
  EXPECT_EQ(base64UrlEncode("{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}"), "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9");
}

TEST(Base64Url, DecodesEveryByteValueAndEveryLengthBack) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (std::size_t n = 0; n <= all.size(); ++n) {
    const std::string bytes = all.substr(all.size() - n);
    std::string out = "junk";
    ASSERT_TRUE(base64UrlDecode(base64UrlEncode(bytes), out)) << n;
    EXPECT_EQ(out, bytes) << n;
  }
}

TEST(Base64Url, StrictnessTable) {
  struct Row {
    std::string text;
    bool ok;
    const char* why;
  };
  const Row rows[] = {
      {"", true, "empty"},
      {"Zg", true, "one byte"},
      {"Zm8", true, "two bytes"},
      {"Zg==", false, "padding"},
      {"Zm8=", false, "padding"},
      {"Z", false, "length % 4 == 1"},
      {"Zm9vY", false, "length % 4 == 1"},
      {"Zh", false, "non-zero unused bits (Zg is canonical)"},
      {"Zm9", false, "non-zero unused bits (Zm8 is canonical)"},
      {"+/+/", false, "standard alphabet"},
      {"Zm 9v", false, "space"},
      {"Zm9v\n", false, "newline"},
      {"Zm9v.", false, "dot"},
      {"Zm\09v"s, false, "NUL"},
      {"Zm9v\xc3\xa9", false, "non-ASCII"},
      {"-_-_", true, "url alphabet"},
  };
  for (const Row& row : rows) {
    std::string out;
    EXPECT_EQ(base64UrlDecode(row.text, out), row.ok) << row.why << ": " << row.text;
    if (row.ok) {
      EXPECT_EQ(base64UrlEncode(out), row.text) << "canonical: " << row.text;
    }
  }
}

TEST(Base64Url, LeavesOutputAloneOnFailure) {
  std::string out = "kept";
  EXPECT_FALSE(base64UrlDecode("Zh", out));
  EXPECT_EQ(out, "kept");
}

}  // namespace
}  // namespace hie

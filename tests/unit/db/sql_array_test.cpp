#include "db/sql_array.h"

#include <gtest/gtest.h>

namespace hie::db {
namespace {

TEST(TextArrayLiteral, QuotesAndEscapesEveryElement) {
  EXPECT_EQ(textArrayLiteral(std::vector<std::string>{}), "{}");
  EXPECT_EQ(textArrayLiteral(std::vector<std::string>{"a", ""}), R"({"a",""})");
  EXPECT_EQ(textArrayLiteral(std::vector<std::string>{R"(x"y)", R"(b\s)", "c,d", "{e}", "NULL"}),
            R"({"x\"y","b\\s","c,d","{e}","NULL"})");
  EXPECT_EQ(textArrayLiteral(std::set<std::string>{"b", "a"}), R"({"a","b"})");
}

}  // namespace
}  // namespace hie::db

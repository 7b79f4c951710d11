#include "app/cli.h"

#include <gtest/gtest.h>

namespace hie::app {
namespace {

const OptionSpec kSpec{{"identifier", "name", "role"}, {"role"}, {"opt-out"}};

TEST(Cli, AcceptsBothOptionForms) {
  auto a = parseArgs({"--identifier", "urn:oid:1.2", "--name=Lakeside Clinic", "--role", "member", "--role=local",
                      "--opt-out", "pos", "--config=x.properties"},
                     kSpec);
  ASSERT_TRUE(a) << a.error().internal;
  EXPECT_EQ(a->value("identifier"), "urn:oid:1.2");
  EXPECT_EQ(a->value("name"), "Lakeside Clinic");
  EXPECT_EQ(a->values("role"), (std::vector<std::string>{"member", "local"}));
  EXPECT_TRUE(a->has("opt-out"));
  EXPECT_EQ(a->value("config"), "x.properties");
  EXPECT_EQ(a->positional, (std::vector<std::string>{"pos"}));
}

TEST(Cli, ValueMayContainEqualsAndBeEmpty) {
  auto a = parseArgs({"--name=a=b", "--identifier="}, kSpec);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->value("name"), "a=b");
  EXPECT_TRUE(a->has("identifier"));
  EXPECT_EQ(a->value("identifier"), "");
}

TEST(Cli, RefusesWhatItDoesNotKnow) {
  EXPECT_FALSE(parseArgs({"--colour", "red"}, kSpec));
  EXPECT_FALSE(parseArgs({"-x"}, kSpec));
  EXPECT_FALSE(parseArgs({"--name"}, kSpec));
  EXPECT_FALSE(parseArgs({"--name", "a", "--name", "b"}, kSpec));
  EXPECT_FALSE(parseArgs({"--opt-out=yes"}, kSpec));
}

TEST(Cli, DoubleDashEndsOptions) {
  auto a = parseArgs({"--", "--name"}, kSpec);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->positional, (std::vector<std::string>{"--name"}));
}

}  // namespace
}  // namespace hie::app

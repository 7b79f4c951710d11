#include "db/migrations.h"

#include <gtest/gtest.h>

namespace hie::db {
namespace {

TEST(Migrations, EmbeddedMigrationsAreNumberedWithoutGaps) {
  const auto& all = embeddedMigrations();
  ASSERT_FALSE(all.empty());
  EXPECT_TRUE(validateSequence(all));
  EXPECT_EQ(all.front().name, "organizations");
  for (const auto& m : all) EXPECT_FALSE(m.sql.empty()) << m.version;
}

TEST(Migrations, GapsAndDuplicatesAreRejected) {
  EXPECT_FALSE(validateSequence({{1, "a", "x"}, {3, "c", "x"}}));
  EXPECT_FALSE(validateSequence({{1, "a", "x"}, {1, "b", "x"}}));
  EXPECT_FALSE(validateSequence({{2, "a", "x"}}));
  EXPECT_TRUE(validateSequence({}));
}

}  // namespace
}  // namespace hie::db

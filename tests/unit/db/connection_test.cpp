#include "db/connection.h"

#include <gtest/gtest.h>

namespace hie::db {
namespace {

TEST(Connection, NetworkTimeoutsAreAddedToUris) {
  EXPECT_EQ(withNetworkTimeouts("postgresql://hie@db.example.org/hie"),
            "postgresql://hie@db.example.org/hie?connect_timeout=5&keepalives=1&keepalives_idle=10"
            "&keepalives_interval=5&keepalives_count=3&tcp_user_timeout=15000");
  EXPECT_EQ(withNetworkTimeouts("postgres://hie@/hie?host=/run/postgresql"),
            "postgres://hie@/hie?host=/run/postgresql&connect_timeout=5&keepalives=1&keepalives_idle=10"
            "&keepalives_interval=5&keepalives_count=3&tcp_user_timeout=15000");
}

TEST(Connection, NetworkTimeoutsAreAddedToKeywordStrings) {
  EXPECT_EQ(withNetworkTimeouts("host=db dbname=hie"),
            "host=db dbname=hie connect_timeout=5 keepalives=1 keepalives_idle=10 keepalives_interval=5 "
            "keepalives_count=3 tcp_user_timeout=15000");
}

TEST(Connection, TheOperatorsOwnValuesWin) {
  const std::string uri = withNetworkTimeouts("postgresql://hie@db/hie?connect_timeout=30&tcp_user_timeout=0");
  EXPECT_NE(uri.find("connect_timeout=30"), std::string::npos);
  EXPECT_EQ(uri.find("connect_timeout=5"), std::string::npos);
  EXPECT_EQ(uri.find("tcp_user_timeout=15000"), std::string::npos);
  EXPECT_NE(uri.find("keepalives_idle=10"), std::string::npos);
}

}  // namespace
}  // namespace hie::db

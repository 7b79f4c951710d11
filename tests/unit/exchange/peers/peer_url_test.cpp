#include "exchange/peers/peer_url.h"

#include <gtest/gtest.h>

namespace hie::exchange {
namespace {

TEST(PeerUrl, AcceptsHttpsHostsPortsAndPrefixes) {
  auto a = parsePeerUrl("https://node-b.example:8443");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "node-b.example");
  EXPECT_EQ(a->port, 8443);
  EXPECT_EQ(a->text(), "https://node-b.example:8443");
  auto b = parsePeerUrl("https://127.0.0.1/hie/");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->port, 443);
  EXPECT_EQ(b->pathPrefix, "/hie");
  EXPECT_TRUE(b->hostIsIp());
  auto c = parsePeerUrl("https://[::1]:9443");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->text(), "https://[::1]:9443");
}

TEST(PeerUrl, RefusesEverythingElse) {
  for (const char* bad : {"", "http://host", "HTTPS://host", "https://", "https://user:pw@host", "https://host?x=1",
                          "https://host#frag", "https://host:0", "https://host:65536", "https://host:", "https://host:8a",
                          "https://ho st", "https://-host", "https://[::1", "https://[::1]x", "ftp://host",
                          "https://host/\\evil", "https://h\x01st", "https://host/a%2Fb", "https://[fe80::1%25eth0]",
                          "https://a..b", "https://host-/x", "https://h/\"q"}) {
    EXPECT_FALSE(parsePeerUrl(bad)) << bad;
  }
}

}  // namespace
}  // namespace hie::exchange

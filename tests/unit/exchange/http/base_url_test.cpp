#include "exchange/http/base_url.h"

#include <gtest/gtest.h>

namespace hie::exchange {
namespace {

using namespace std::string_literals;

TEST(PlainAuthority, AcceptsHostNamesIpAddressesAndPorts) {
  for (const std::string& ok :
       {"localhost"s, "localhost:8443"s, "node-a.example.org"s, "Node-A.Example.ORG:443"s, "127.0.0.1"s,
        "127.0.0.1:1"s, "10.0.0.5:65535"s, "[::1]"s, "[::1]:8443"s, "[2001:db8::7]:443"s, "[::ffff:127.0.0.1]:8443"s,
        "a"s, "x1"s, std::string(63, 'a') + ".example"s, std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                                                            std::string(63, 'c') + "." + std::string(61, 'd')}) {
    EXPECT_TRUE(isPlainAuthority(ok)) << ok;
  }
}

TEST(PlainAuthority, RefusesEverythingElse) {
  for (const std::string& bad :
       {""s, "evil\"host"s, "a\\b"s, "a\"},\"x\":\"y"s, "a\x01"s, "a\x7f"s, "a\0b"s, "a b"s, "a\tb"s, "a\r\nb"s,
        std::string(10240, 'a'), std::string(64, 'a') + ".example"s,
        std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." + std::string(62, 'd'),
        "-a.example"s, "a-.example"s, "a..example"s, ".example"s, "example."s, "a_b.example"s, "user@host"s,
        "host/path"s, "host?x"s, "host#x"s, "host:"s, "host:0"s, "host:65536"s, "host:123456"s, "host:8x"s,
        "host:-1"s, "host:+1"s, "a:1:2"s, "::1"s, "[::1"s, "[::1]x"s, "[::1]:"s, "[::1]:99999"s, "[]"s,
        "[fe80::1%eth0]:8443"s, "[1.2.3.4]"s, "[::1]]"s, "caf\xc3\xa9.example"s, "\xff"s, "%41"s}) {
    EXPECT_FALSE(isPlainAuthority(bad)) << bad;
  }
}

TEST(PlainBaseUrl, HttpsWithAPlainAuthorityAndASimplePath) {
  for (const std::string& ok : {"https://node-a.example.org"s, "https://node-a.example.org:8443"s,
                                "https://lb.example.org/hie/node-a/"s, "https://[::1]:8443/x_y~z.1"s}) {
    EXPECT_TRUE(isPlainBaseUrl(ok)) << ok;
  }
  for (const std::string& bad : {"http://node-a.example.org"s, "node-a.example.org"s, "https://"s, "https:///x"s,
                                 "https://a\"b"s, "https://a/b\"c"s, "https://a/b c"s, "https://a/b?c"s,
                                 "https://a/b#c"s, "https://u@a"s, "https://a/%41"s, "https://a/b\\c"s}) {
    EXPECT_FALSE(isPlainBaseUrl(bad)) << bad;
  }
}

HttpCall callWithHosts(const std::vector<std::string>& hosts, const std::string& local = "127.0.0.1:8443") {
  HttpCall call;
  call.localAddress = local;
  for (const auto& h : hosts) call.headers.emplace_back("host", h);
  return call;
}

TEST(PublicBaseUrl, ConfiguredThenPlainHostThenLocalAddress) {
  EXPECT_EQ(publicBaseUrl("https://hie.example.org/a", callWithHosts({"evil\""})), "https://hie.example.org/a");
  EXPECT_EQ(publicBaseUrl("https://hie.example.org", callWithHosts({"node-a:8443"})), "https://hie.example.org");
  EXPECT_EQ(publicBaseUrl("", callWithHosts({"node-a.example.org:8443"})), "https://node-a.example.org:8443");
  EXPECT_EQ(publicBaseUrl("", callWithHosts({"[::1]:9"})), "https://[::1]:9");
  // Hostile, missing or repeated Host: the address the connection arrived on.
  for (const auto& hosts : std::vector<std::vector<std::string>>{
           {"evil\"},{\"x\":\""}, {"a\\b"}, {"a\x01"}, {std::string(10240, 'a')}, {}, {"a", "b"}, {"a:1:2"}}) {
    EXPECT_EQ(publicBaseUrl("", callWithHosts(hosts)), "https://127.0.0.1:8443");
  }
  EXPECT_EQ(publicBaseUrl("", callWithHosts({"a\""}, "[::1]:8443")), "https://[::1]:8443");
  // A local address that is no plain authority (an IPv6 zone): the last resort.
  EXPECT_EQ(publicBaseUrl("", callWithHosts({"a\""}, "[fe80::1%eth0]:8443")), "https://localhost");
}

}  // namespace
}  // namespace hie::exchange

#include "app/config.h"

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/support/test_pki.h"

namespace hie::app {
namespace {

std::map<std::string, std::string> complete() {
  return {{"node.id", "node-a"},
          {"node.organization", "urn:oid:2.16.840.1.113883.3.7000"},
          {"server.host", "127.0.0.1"},
          {"server.port", "8443"},
          {"tls.certificate", "certs/node.crt"},
          {"tls.privateKey", "/abs/node.key"},
          {"tls.trustBundle", "certs/ca.pem"},
          {"db.uri", "postgresql://hie@/hie"},
          {"audit.signingKey", "keys/audit.pem"}};
}

TEST(Config, ServeConfigWithDefaultsAndRelativePaths) {
  auto c = serveConfig(ConfigSource::fromMap(complete(), "/etc/hie"));
  ASSERT_TRUE(c) << c.error().internal;
  EXPECT_EQ(c->listener.port, 8443);
  EXPECT_EQ(c->listener.threads, 16);
  EXPECT_EQ(c->tls.certificate, "/etc/hie/certs/node.crt");
  EXPECT_EQ(c->tls.privateKey, "/abs/node.key");
  EXPECT_EQ(c->tls.crl, "");
  EXPECT_EQ(c->verifyDepth, 4);
}

TEST(Config, EveryMissingRequiredKeyIsNamed) {
  for (const auto& [key, value] : complete()) {
    auto values = complete();
    values.erase(key);
    auto c = serveConfig(ConfigSource::fromMap(values, "/"));
    ASSERT_FALSE(c) << key;
    EXPECT_NE(c.error().external.find("'" + key + "'"), std::string::npos) << c.error().external;
    EXPECT_NE(c.error().external.find(environmentName(key)), std::string::npos) << c.error().external;
  }
}

TEST(Config, BadNumbersAndIdentifiersAreRefused) {
  for (auto [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"server.port", "65536"}, {"server.port", "-1"}, {"server.port", "80a"}, {"server.threads", "0"},
           {"tls.verifyDepth", "11"}, {"node.organization", "Lakeside"}, {"server.timeout", "99999999999"}}) {
    auto values = complete();
    values[key] = value;
    auto c = serveConfig(ConfigSource::fromMap(values, "/"));
    ASSERT_FALSE(c) << key << "=" << value;
    EXPECT_NE(c.error().external.find(key), std::string::npos) << c.error().external;
  }
}

TEST(Config, BaseUrlMustBeAPlainHttpsUrl) {
  auto values = complete();
  values["server.baseUrl"] = "https://lb.example.org:8443/hie/";
  auto c = serveConfig(ConfigSource::fromMap(values, "/"));
  ASSERT_TRUE(c) << c.error().internal;
  EXPECT_EQ(c->baseUrl, "https://lb.example.org:8443/hie");
  for (const char* bad : {"http://lb.example.org", "https://lb.example.org\"", "https://a b",
                          "https://lb.example.org/x?y", "https://u@lb.example.org", "https://lb:99999"}) {
    values["server.baseUrl"] = bad;
    auto refused = serveConfig(ConfigSource::fromMap(values, "/"));
    ASSERT_FALSE(refused) << bad;
    EXPECT_NE(refused.error().external.find("server.baseUrl"), std::string::npos) << refused.error().external;
  }
}

TEST(Config, OcspMustFitInsideTheHandshakeLimit) {
  auto values = complete();
  values["server.timeout"] = "2";
  values["tls.ocspTimeout"] = "2000";
  values["tls.ocsp"] = "prefer";
  auto c = serveConfig(ConfigSource::fromMap(values, "/"));
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().external.find("tls.ocspTimeout"), std::string::npos) << c.error().external;
  values["tls.ocspTimeout"] = "1500";
  EXPECT_TRUE(serveConfig(ConfigSource::fromMap(values, "/")));
  values["tls.ocspTimeout"] = "2000";
  values["tls.ocsp"] = "off";  // not used: no constraint
  EXPECT_TRUE(serveConfig(ConfigSource::fromMap(values, "/")));
  values["client.maxResponseKiB"] = "0";
  EXPECT_FALSE(serveConfig(ConfigSource::fromMap(values, "/")));
}

TEST(Config, SessionLifetime) {
  auto values = complete();
  auto c = serveConfig(ConfigSource::fromMap(values, "/"));
  ASSERT_TRUE(c) << c.error().internal;
  EXPECT_EQ(c->sessionLifetimeSeconds, 60);
  values["tls.sessionLifetime"] = "0";
  c = serveConfig(ConfigSource::fromMap(values, "/"));
  ASSERT_TRUE(c) << c.error().internal;
  EXPECT_EQ(c->sessionLifetimeSeconds, 0);
  values["tls.sessionLifetime"] = "86400";
  c = serveConfig(ConfigSource::fromMap(values, "/"));
  ASSERT_TRUE(c) << c.error().internal;
  EXPECT_EQ(c->sessionLifetimeSeconds, 86400);
  for (const char* bad : {"-1", "86401", "60s"}) {
    values["tls.sessionLifetime"] = bad;
    c = serveConfig(ConfigSource::fromMap(values, "/"));
    ASSERT_FALSE(c) << bad;
    EXPECT_NE(c.error().external.find("tls.sessionLifetime"), std::string::npos) << c.error().external;
  }
}

TEST(Config, OutboundCallsAreBoundedNodeWide) {
  auto values = complete();
  auto c = serveConfig(ConfigSource::fromMap(values, "/"));
  ASSERT_TRUE(c) << c.error().internal;
  EXPECT_EQ(c->client.maxConcurrentCalls, 32);
  values["client.maxConcurrentCalls"] = "8";
  c = serveConfig(ConfigSource::fromMap(values, "/"));
  ASSERT_TRUE(c) << c.error().internal;
  EXPECT_EQ(c->client.maxConcurrentCalls, 8);
  for (int edge : {1, 1024}) {
    values["client.maxConcurrentCalls"] = std::to_string(edge);
    c = serveConfig(ConfigSource::fromMap(values, "/"));
    ASSERT_TRUE(c) << edge << c.error().internal;
    EXPECT_EQ(c->client.maxConcurrentCalls, edge);
  }
  for (const char* bad : {"0", "1025", "many"}) {
    values["client.maxConcurrentCalls"] = bad;
    auto refused = serveConfig(ConfigSource::fromMap(values, "/"));
    ASSERT_FALSE(refused) << bad;
    EXPECT_NE(refused.error().external.find("client.maxConcurrentCalls"), std::string::npos) << refused.error().external;
  }
}

TEST(Config, NodeIdIsPlainAscii) {
  auto values = complete();
  for (const char* good : {"node-a", "hospital_1.prod", "N"}) {
    values["node.id"] = good;
    EXPECT_TRUE(serveConfig(ConfigSource::fromMap(values, "/"))) << good;
  }
  for (const std::string& bad : {std::string("node a"), std::string("a%b"), std::string("n\xC3\xA9"), std::string("a\"b"),
                                std::string("a/b"), std::string(65, 'n')}) {
    values["node.id"] = bad;
    auto c = serveConfig(ConfigSource::fromMap(values, "/"));
    ASSERT_FALSE(c) << bad;
    EXPECT_NE(c.error().external.find("node.id"), std::string::npos) << c.error().external;
  }
}

TEST(Config, EnvironmentNames) {
  EXPECT_EQ(environmentName("db.uri"), "HIE_DB_URI");
  EXPECT_EQ(environmentName("tls.privateKey"), "HIE_TLS_PRIVATEKEY");
}

TEST(Config, FileValuesAreOverriddenByEnvironmentAndUnknownKeysRefused) {
  hie::testing::TempDir dir;
  const std::string path = dir.path() + "/node.properties";
  {
    std::ofstream out(path);
    out << "db.uri = postgresql://file@/hie\n# comment\nserver.port = 1\n";
  }
  ::setenv("HIE_SERVER_PORT", "2", 1);
  auto source = ConfigSource::load(path, true);
  ::unsetenv("HIE_SERVER_PORT");
  ASSERT_TRUE(source) << source.error().internal;
  EXPECT_EQ(source->get("db.uri").value_or(""), "postgresql://file@/hie");
  EXPECT_EQ(source->get("server.port").value_or(""), "2");
  EXPECT_EQ(source->baseDir(), dir.path() + "/");

  {
    std::ofstream out(path);
    out << "db.uri = postgresql://file@/hie   # the runtime role\ntls.crl =   # none\n";
  }
  auto commentOnly = ConfigSource::load(path, true);
  ASSERT_FALSE(commentOnly) << "a key whose value is only a comment must not count as set";
  EXPECT_NE(commentOnly.error().external.find("tls.crl"), std::string::npos);
  {
    std::ofstream out(path);
    out << "db.uri = postgresql://file@/hie   # the runtime role\n";
  }
  auto commented = ConfigSource::load(path, true);
  ASSERT_TRUE(commented);
  EXPECT_EQ(commented->get("db.uri").value_or(""), "postgresql://file@/hie");
  {
    std::ofstream out(path, std::ios::app);
    out << "tls.crll = typo.crl\n";
  }
  auto typo = ConfigSource::load(path, true);
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().external.find("tls.crll"), std::string::npos);
}

TEST(Config, NamedFileMustExistDefaultMayNot) {
  EXPECT_FALSE(ConfigSource::load("/nonexistent/node.properties", true));
  EXPECT_TRUE(ConfigSource::load("/nonexistent/node.properties", false));
}

}  // namespace
}  // namespace hie::app

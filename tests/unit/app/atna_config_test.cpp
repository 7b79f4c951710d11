// The atna.* keys: off by default, derived defaults, and bad values refused with the key named.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "app/config.h"

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

TEST(AtnaConfig, OffByDefaultAndDefaultsDerivedFromOtherKeys) {
  auto off = serveConfig(ConfigSource::fromMap(complete(), "/etc/hie"));
  ASSERT_TRUE(off) << off.error().internal;
  EXPECT_EQ(off->atna.host, "");
  auto values = complete();
  values["atna.host"] = "audit.example.org";
  auto on = serveConfig(ConfigSource::fromMap(values, "/etc/hie"));
  ASSERT_TRUE(on) << on.error().internal;
  EXPECT_EQ(on->atna.port, 6514);
  EXPECT_EQ(on->atna.serverName, "audit.example.org");
  EXPECT_EQ(on->atna.trustBundle, "/etc/hie/certs/ca.pem");
  EXPECT_EQ(on->atna.format, "dicom");
  EXPECT_EQ(on->atna.batchSize, 100);
  EXPECT_EQ(on->atna.maxMessageBytes, 262144);
  EXPECT_EQ(on->atna.enterpriseNumber, 32473);
  values["atna.trustBundle"] = "audit-ca.pem";
  values["atna.serverName"] = "127.0.0.1";
  values["atna.format"] = "fhir";
  values["atna.retryMax"] = "5";
  values["atna.enterpriseNumber"] = "99999";
  on = serveConfig(ConfigSource::fromMap(values, "/etc/hie"));
  ASSERT_TRUE(on) << on.error().internal;
  EXPECT_EQ(on->atna.trustBundle, "/etc/hie/audit-ca.pem");
  EXPECT_EQ(on->atna.serverName, "127.0.0.1");
  EXPECT_EQ(on->atna.format, "fhir");
  EXPECT_EQ(on->atna.retryMax, std::chrono::seconds(5));
  EXPECT_EQ(on->atna.enterpriseNumber, 99999);
}

TEST(AtnaConfig, BadValuesAreRefusedNamingTheKey) {
  for (const auto& [key, value, message] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"atna.format", "xml", "configuration key 'atna.format' must be dicom or fhir, not 'xml'"},
           {"atna.host", "tls://audit.example.org:6514",
            "configuration key 'atna.host' must be a host name or IP address (without scheme or port), not "
            "'tls://audit.example.org:6514'"},
           {"atna.serverName", "audit example", "configuration key 'atna.serverName' must be a host name or IP "
                                                "address (without scheme or port), not 'audit example'"},
           {"atna.batchSize", "0", "configuration key 'atna.batchSize' must be a whole number from 1 to 10000, not '0'"},
           {"atna.maxMessageBytes", "1024",
            "configuration key 'atna.maxMessageBytes' must be a whole number from 2048 to 16777216, not '1024'"}}) {
    auto values = complete();
    values["atna.host"] = "audit.example.org";
    values[key] = value;
    auto c = serveConfig(ConfigSource::fromMap(values, "/"));
    ASSERT_FALSE(c) << key << "=" << value;
    EXPECT_EQ(c.error().external, message);
  }
  auto values = complete();
  values["atna.host"] = "::1";
  EXPECT_TRUE(serveConfig(ConfigSource::fromMap(values, "/")));
}

}  // namespace
}  // namespace hie::app

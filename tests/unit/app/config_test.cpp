#include "app/config.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include <gtest/gtest.h>

#include "exchange/handlers/record_api.h"
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


// ---- The key table ----

std::string readSourceFile(const std::string& relative) {
  std::ifstream in(std::string(HIE_SOURCE_DIR) + "/" + relative);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string withoutBackticks(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), '`'), s.end());
  return s;
}

std::string trimmed(const std::string& s) {
  const auto b = s.find_first_not_of(' ');
  const auto e = s.find_last_not_of(' ');
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

struct DocRow {
  std::string key, defaultText, meaning;
};

// The rows "| `key` | default | meaning |" of the tables under "## Keys".
std::vector<DocRow> documentedKeys() {
  std::vector<DocRow> rows;
  std::stringstream doc(readSourceFile("docs/configuration.md"));
  std::string line;
  bool inKeys = false;
  while (std::getline(doc, line)) {
    if (line.rfind("## ", 0) == 0) inKeys = line == "## Keys";
    if (!inKeys || line.rfind("| `", 0) != 0) continue;
    std::vector<std::string> cells;
    std::stringstream row(line.substr(1));
    std::string cell;
    while (std::getline(row, cell, '|')) cells.push_back(trimmed(cell));
    if (cells.size() < 3) continue;
    rows.push_back({withoutBackticks(cells[0]), withoutBackticks(cells[1]), cells[2]});
  }
  return rows;
}

TEST(ConfigKeys, DocumentationListsExactlyTheKeysOfTheTable) {
  const auto rows = documentedKeys();
  ASSERT_GT(rows.size(), 10u) << "docs/configuration.md: no key tables found under '## Keys'";
  std::map<std::string, DocRow> documented;
  for (const auto& row : rows) EXPECT_TRUE(documented.emplace(row.key, row).second) << "documented twice: " << row.key;
  std::set<std::string> inCode;
  for (const auto& key : configurationKeys()) {
    EXPECT_TRUE(inCode.insert(key.name).second) << "twice in the table: " << key.name;
    auto doc = documented.find(key.name);
    if (doc == documented.end()) {
      ADD_FAILURE() << key.name << " is read by hie-node but missing from docs/configuration.md";
      continue;
    }
    // The documented default is the code's, optionally followed by a remark: "required (all commands)".
    const std::string& shown = doc->second.defaultText;
    EXPECT_TRUE(shown == key.documentedDefault || shown.rfind(key.documentedDefault + " (", 0) == 0)
        << key.name << ": docs say default '" << shown << "', the code '" << key.documentedDefault << "'";
    if (key.range) {
      const std::string range = std::to_string(key.range->first) + "\u2013" + std::to_string(key.range->second);
      EXPECT_NE(doc->second.meaning.find(range), std::string::npos)
          << key.name << ": docs do not state the range " << range << ": " << doc->second.meaning;
    }
  }
  for (const auto& [name, row] : documented) {
    EXPECT_EQ(inCode.count(name), 1u) << name << " is documented but hie-node does not read it";
  }
}

TEST(ConfigKeys, ExampleFileNamesEveryKeyAndNoOther) {
  std::stringstream example(readSourceFile("config/node.properties.example"));
  std::set<std::string> named;
  std::string line;
  while (std::getline(example, line)) {
    // "key = value" or "#key = value" (a key left at its default).
    std::string body = line.rfind('#', 0) == 0 ? line.substr(1) : line;
    const auto eq = body.find(" = ");
    if (eq == std::string::npos || eq == 0) continue;
    const std::string key = body.substr(0, eq);
    if (key.find_first_of(" #") != std::string::npos || key.find('.') == std::string::npos) continue;
    named.insert(key);
  }
  std::set<std::string> inCode;
  for (const auto& key : configurationKeys()) inCode.insert(key.name);
  EXPECT_EQ(named, inCode);
}

TEST(ConfigKeys, EveryIntegerKeyTakesItsRangeAndRefusesOutside) {
  for (const auto& key : configurationKeys()) {
    if (!key.range) continue;
    const auto [min, max] = *key.range;
    for (int good : {min, max}) {
      auto values = complete();
      values[key.name] = std::to_string(good);
      auto c = serveConfig(ConfigSource::fromMap(values, "/"));
      EXPECT_TRUE(c) << key.name << "=" << good << ": " << (c ? "" : c.error().external);
    }
    for (const std::string& bad : {std::to_string(max + 1L), std::string("-1"), std::string("12x"), std::string("1.5")}) {
      auto values = complete();
      values[key.name] = bad;
      auto c = serveConfig(ConfigSource::fromMap(values, "/"));
      ASSERT_FALSE(c) << key.name << "=" << bad;
      EXPECT_EQ(c.error().external, "configuration key '" + key.name + "' must be a whole number from " +
                                        std::to_string(min) + " to " + std::to_string(max) + ", not '" + bad + "'");
    }
    if (min > 0) {
      auto values = complete();
      values[key.name] = std::to_string(min - 1);
      EXPECT_FALSE(serveConfig(ConfigSource::fromMap(values, "/"))) << key.name << "=" << min - 1;
    }
  }
}

TEST(ConfigKeys, DefaultsLandInTheConfig) {
  auto c = serveConfig(ConfigSource::fromMap(complete(), "/"));
  ASSERT_TRUE(c) << c.error().internal;
  EXPECT_EQ(c->nodeId, "node-a");
  EXPECT_EQ(c->organization, "urn:oid:2.16.840.1.113883.3.7000");
  EXPECT_EQ(c->exchange.ownOrganization, c->organization);
  EXPECT_EQ(c->listener.host, "127.0.0.1");
  EXPECT_EQ(c->listener.maxQueued, 64);
  EXPECT_EQ(c->listener.timeoutSeconds, 10);
  EXPECT_EQ(c->listener.keepAliveSeconds, 5);
  EXPECT_EQ(c->listener.maxKeepAliveRequests, 1000);
  EXPECT_EQ(c->dbUri, "postgresql://hie@/hie");
  EXPECT_EQ(c->auditSigningKey, "/keys/audit.pem");
  EXPECT_EQ(c->registryPollMillis, 500);
  EXPECT_EQ(c->auditOrigin, "hie-node/" + c->nodeId + "/audit");
  EXPECT_EQ(c->audit.commitTimeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(c->exchange.deadline, std::chrono::milliseconds(5000));
  EXPECT_EQ(c->exchange.maxParallel, 8);
  EXPECT_EQ(c->client.connectTimeout, std::chrono::milliseconds(2000));
  EXPECT_EQ(c->client.readTimeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(c->client.retries, 1);
  EXPECT_EQ(c->client.maxResponseBytes, 16384u * 1024);
  EXPECT_EQ(c->ocspMode, auth::OcspMode::kOff);
  EXPECT_EQ(c->ocspTimeout, std::chrono::milliseconds(2000));
  EXPECT_EQ(c->expiryWarningDays, (std::vector<int>{30, 7, 1}));
  EXPECT_EQ(c->adminHost, "127.0.0.1");
  EXPECT_EQ(c->adminPort, 9090);
  EXPECT_EQ(c->dbPoolSize, 16);
  EXPECT_FALSE(c->records.policy.breakGlass);
  EXPECT_EQ(c->records.limits.maxCount, 100);
  EXPECT_EQ(c->records.resourceTypes, exchange::defaultResourceTypes());
  EXPECT_EQ(c->exchange.resourceTypes, c->records.resourceTypes);
  EXPECT_EQ(c->baseUrl, "");

  auto values = complete();
  values["server.threads"] = "4";  // db.poolSize follows server.threads unless set
  values["records.maxPageSize"] = "10";
  values["records.types"] = "Patient, Observation";
  values["tls.expiryWarningDays"] = " 14, 2";
  values["tls.ocsp"] = "require";
  values["policy.breakGlass"] = "true";
  values["admin.host"] = "::1";
  values["tls.crl"] = "crl/network.crl";
  c = serveConfig(ConfigSource::fromMap(values, "/etc/hie"));
  ASSERT_TRUE(c) << c.error().internal;
  EXPECT_EQ(c->dbPoolSize, 4);
  EXPECT_EQ(c->records.limits.maxCount, 10);
  EXPECT_EQ(c->records.limits.defaultCount, 10);
  EXPECT_EQ(c->records.resourceTypes, (std::set<std::string>{"Patient", "Observation"}));
  EXPECT_EQ(c->exchange.resourceTypes, c->records.resourceTypes);
  EXPECT_EQ(c->expiryWarningDays, (std::vector<int>{14, 2}));
  EXPECT_EQ(c->ocspMode, auth::OcspMode::kRequire);
  EXPECT_TRUE(c->records.policy.breakGlass);
  EXPECT_EQ(c->adminHost, "::1");
  EXPECT_EQ(c->tls.crl, "/etc/hie/crl/network.crl");
}

TEST(ConfigKeys, EachCheckRefusesWithItsMessage) {
  for (const auto& [key, value, message] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"policy.breakGlass", "yes", "configuration key 'policy.breakGlass' must be true or false, not 'yes'"},
           {"tls.ocsp", "sometimes", "configuration key 'tls.ocsp' must be require, prefer or off, not 'sometimes'"},
           {"tls.expiryWarningDays", "30,0",
            "configuration key 'tls.expiryWarningDays' must be a comma-separated list of whole days, e.g. 30,7,1"},
           {"tls.expiryWarningDays", "30,,1",
            "configuration key 'tls.expiryWarningDays' must be a comma-separated list of whole days, e.g. 30,7,1"},
           {"records.types", "Observation", "configuration key 'records.types' must include Patient"},
           {"records.types", "Patient, Medication",
            "configuration key 'records.types': 'Medication' is not a supported resource type (AllergyIntolerance, "
            "Condition, DocumentReference, Encounter, MedicationStatement, Observation, Patient)"},
           {"node.organization", "Lakeside",
            "configuration key 'node.organization' must be a urn:oid: identifier, not 'Lakeside'"},
           {"node.id", "a b", "configuration key 'node.id' must be 1-64 of A-Z a-z 0-9 . _ -"},
           {"server.baseUrl", "http://x",
            "configuration key 'server.baseUrl' must be https://HOST[:PORT][/PATH] with a plain host name or IP "
            "address, a port 1-65535 and a path of letters, digits and - . _ ~ /"},
       }) {
    auto values = complete();
    values[key] = value;
    auto c = serveConfig(ConfigSource::fromMap(values, "/"));
    ASSERT_FALSE(c) << key << "=" << value;
    EXPECT_EQ(c.error().external, message);
    EXPECT_EQ(c.error().code, ErrorCode::kInvalidInput);
  }
  auto values = complete();
  values.erase("db.uri");
  auto missing = serveConfig(ConfigSource::fromMap(values, "/"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().external,
            "missing required configuration key 'db.uri' (set it in map or the environment variable HIE_DB_URI)");
  values = complete();
  values["server.timeout"] = "2";
  values["tls.ocsp"] = "prefer";
  auto ocsp = serveConfig(ConfigSource::fromMap(values, "/"));
  ASSERT_FALSE(ocsp);
  EXPECT_EQ(ocsp.error().external,
            "configuration key 'tls.ocspTimeout' (2000 ms) must be shorter than server.timeout (2 s): a handshake, its "
            "OCSP query included, is cut at server.timeout");
}

TEST(ConfigKeys, RecordWriteKeysDefaultLandAndAreChecked) {
  auto c = serveConfig(ConfigSource::fromMap(complete(), "/"));
  ASSERT_TRUE(c) << c.error().internal;
  EXPECT_EQ(c->records.maxWriteBytes, 8u * 1024 * 1024);
  EXPECT_EQ(c->records.writeLimits.maxEntries, 1000u);
  EXPECT_EQ(c->records.writePurposes, (std::set<std::string>{"HOPERAT", "PATADMIN", "RECORDMGT", "TREAT", "ETREAT"}));

  auto values = complete();
  values["records.maxRequestBytes"] = "1024";
  values["records.maxBundleEntries"] = "1";
  values["records.writePurposes"] = " TREAT , PATADMIN,TREAT";
  c = serveConfig(ConfigSource::fromMap(values, "/"));
  ASSERT_TRUE(c) << c.error().external;
  EXPECT_EQ(c->records.maxWriteBytes, 1024u);
  EXPECT_EQ(c->records.writeLimits.maxEntries, 1u);
  EXPECT_EQ(c->records.writePurposes, (std::set<std::string>{"PATADMIN", "TREAT"}));
  values["records.maxRequestBytes"] = "268435456";
  values["records.maxBundleEntries"] = "100000";
  c = serveConfig(ConfigSource::fromMap(values, "/"));
  ASSERT_TRUE(c) << c.error().external;
  EXPECT_EQ(c->records.maxWriteBytes, 256u * 1024 * 1024);
  EXPECT_EQ(c->records.writeLimits.maxEntries, 100000u);

  for (const auto& [key, bad] : std::vector<std::pair<std::string, std::string>>{
           {"records.maxRequestBytes", "1023"},
           {"records.maxRequestBytes", "268435457"},
           {"records.maxRequestBytes", "8MiB"},
           {"records.maxBundleEntries", "0"},
           {"records.maxBundleEntries", "100001"},
           {"records.maxBundleEntries", "-5"}}) {
    values = complete();
    values[key] = bad;
    auto refused = serveConfig(ConfigSource::fromMap(values, "/"));
    ASSERT_FALSE(refused) << key << "=" << bad;
    EXPECT_NE(refused.error().external.find("'" + key + "'"), std::string::npos) << refused.error().external;
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidInput);
  }
  for (const std::string bad : {"TREAT,CURIOSITY", "treat", "TREAT,,PATADMIN", ",", " ", "TREAT;PATADMIN"}) {
    values = complete();
    values["records.writePurposes"] = bad;
    auto refused = serveConfig(ConfigSource::fromMap(values, "/"));
    ASSERT_FALSE(refused) << "records.writePurposes=" << bad;
    EXPECT_EQ(refused.error().external,
              "configuration key 'records.writePurposes' must be a comma-separated list of HL7 v3 PurposeOfUse codes "
              "(e.g. HOPERAT,PATADMIN,RECORDMGT,TREAT,ETREAT)")
        << bad;
  }
}

TEST(ConfigKeys, UnknownAndEmptyKeysAreRefusedWithTheirMessage) {
  hie::testing::TempDir dir;
  const std::string path = dir.path() + "/node.properties";
  {
    std::ofstream out(path);
    out << "db.uri = postgresql://file@/hie\nserver.Port = 1\n";
  }
  auto unknown = ConfigSource::load(path, true);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().external, "unknown configuration key 'server.Port' in " + path);
  {
    std::ofstream out(path);
    out << "db.uri = postgresql://file@/hie\n";
  }
  // Every key of the table, and only those, is looked up in the environment.
  ::setenv("HIE_CLIENT_MAXRESPONSEKIB", "", 1);
  ::setenv("HIE_NOT_A_KEY", "x", 1);
  auto empty = ConfigSource::load(path, true);
  ::unsetenv("HIE_CLIENT_MAXRESPONSEKIB");
  ::unsetenv("HIE_NOT_A_KEY");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().external,
            "configuration key 'client.maxResponseKiB' is set but empty; remove it or give it a value (environment "
            "variable HIE_CLIENT_MAXRESPONSEKIB)");
  ::setenv("HIE_NOT_A_KEY", "x", 1);
  auto ignored = ConfigSource::load(path, true);
  ::unsetenv("HIE_NOT_A_KEY");
  ASSERT_TRUE(ignored) << ignored.error().internal;
  EXPECT_FALSE(ignored->get("not.a.key"));
}

TEST(ConfigKeys, WitnessKeysDefaultAndAreChecked) {
  auto c = serveConfig(ConfigSource::fromMap(complete(), "/etc/hie"));
  ASSERT_TRUE(c) << c.error().internal;
  EXPECT_EQ(c->witnessInterval, std::chrono::seconds(10));
  EXPECT_EQ(c->witnessTimeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(c->witnessSigningKey, "") << "no witness key: the node is no witness";
  EXPECT_EQ(c->witnessName, "hie-node/node-a/witness");
  EXPECT_EQ(logOrigin(*c), "hie-node/node-a/audit");

  auto values = complete();
  values["witness.signingKey"] = "keys/witness.pem";
  values["witness.name"] = "witness.example.org/w1";
  values["audit.witnessInterval"] = "60";
  values["audit.witnessTimeout"] = "2500";
  c = serveConfig(ConfigSource::fromMap(values, "/etc/hie"));
  ASSERT_TRUE(c) << c.error().internal;
  EXPECT_EQ(c->witnessSigningKey, "/etc/hie/keys/witness.pem");
  EXPECT_EQ(c->witnessName, "witness.example.org/w1");
  EXPECT_EQ(c->witnessInterval, std::chrono::seconds(60));
  EXPECT_EQ(c->witnessTimeout, std::chrono::milliseconds(2500));

  for (const std::string& bad : std::vector<std::string>{"a b", "a+b", std::string(256, 'w'), "w\x7f"}) {
    values = complete();
    values["witness.name"] = bad;
    auto refused = serveConfig(ConfigSource::fromMap(values, "/"));
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error().external,
              "configuration key 'witness.name' must be a signed-note key name: 1-255 printable ASCII characters "
              "without spaces or '+', not '" + bad + "'");
  }
}

}  // namespace
}  // namespace hie::app

namespace hie::app {
namespace {

TEST(ConfigSignatures, DefaultsAndValuesLandAndABadPolicyNamesItsKey) {
  auto defaults = serveConfig(ConfigSource::fromMap(complete(), "/"));
  ASSERT_TRUE(defaults) << defaults.error().external;
  EXPECT_EQ(defaults->signatures.requests, auth::SignaturePolicy::kVerifyIfPresent);
  EXPECT_EQ(defaults->signatures.answers, auth::SignaturePolicy::kVerifyIfPresent);
  EXPECT_TRUE(defaults->signatures.sign);
  EXPECT_EQ(defaults->signatures.maxAge, std::chrono::seconds(300));
  EXPECT_EQ(defaults->signatures.clockSkew, std::chrono::seconds(30));

  auto values = complete();
  values["signatures.requests"] = "require";
  values["signatures.answers"] = "off";
  values["signatures.sign"] = "false";
  values["signatures.maxAge"] = "60";
  values["signatures.clockSkew"] = "0";
  auto set = serveConfig(ConfigSource::fromMap(values, "/"));
  ASSERT_TRUE(set) << set.error().external;
  EXPECT_EQ(set->signatures.requests, auth::SignaturePolicy::kRequire);
  EXPECT_EQ(set->signatures.answers, auth::SignaturePolicy::kOff);
  EXPECT_FALSE(set->signatures.sign);
  EXPECT_EQ(set->signatures.maxAge, std::chrono::seconds(60));
  EXPECT_EQ(set->signatures.clockSkew, std::chrono::seconds(0));

  for (const char* key : {"signatures.requests", "signatures.answers"}) {
    for (const char* bad : {"Require", "verify", "default", "on"}) {
      auto v = complete();
      v[key] = bad;
      auto c = serveConfig(ConfigSource::fromMap(v, "/"));
      ASSERT_FALSE(c) << key << "=" << bad;
      EXPECT_EQ(c.error().external, std::string("configuration key '") + key +
                                        "' must be require, verify-if-present or off, not '" + bad + "'");
    }
  }
  auto v = complete();
  v["signatures.sign"] = "yes";
  auto c = serveConfig(ConfigSource::fromMap(v, "/"));
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().external.find("signatures.sign"), std::string::npos);
}

}  // namespace
}  // namespace hie::app

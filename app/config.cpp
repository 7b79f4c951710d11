#include "app/config.h"

#include <cctype>
#include <cstdlib>
#include <algorithm>
#include <optional>
#include <set>
#include <sstream>

#include <Poco/AutoPtr.h>
#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/Path.h>
#include <Poco/Util/PropertyFileConfiguration.h>

#include "audit/signed_note.h"
#include "audit/transparency_log.h"
#include "auth/registry/organization.h"
#include "common/purpose_of_use.h"
#include "auth/tls/ocsp_checker.h"
#include "exchange/handlers/record_api.h"
#include "exchange/http/base_url.h"

namespace hie::app {
namespace {

Error configError(const std::string& message) { return Error{ErrorCode::kInvalidInput, message, message}; }

// Trims white space and drops an end-of-line comment (" # ..."), as in the
// documented examples. A '#' not preceded by white space is part of the value.
std::string cleanValue(std::string v) {
  std::size_t first = v.find_first_not_of(" \t");
  if (first != std::string::npos && v[first] == '#') return "";  // "key = # comment": no value
  for (std::size_t i = 1; i < v.size(); ++i) {
    if (v[i] == '#' && std::isspace(static_cast<unsigned char>(v[i - 1]))) {
      v.erase(i);
      break;
    }
  }
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
  std::size_t start = 0;
  while (start < v.size() && std::isspace(static_cast<unsigned char>(v[start]))) ++start;
  return v.substr(start);
}

// ---- The keys ----
//
// One row per key hie-node reads: its name, type, default, check and where it
// lands in NodeConfig. The table is the only list of keys: a key outside it is
// an error (a typo in tls.crl must not silently switch off revocation
// checking), only its keys are looked up in the environment, and
// docs/configuration.md must list exactly these keys (config_test checks).
// serveConfig reads the keys in table order; a check may look at the keys
// above it, already landed.

enum class Kind { kText, kPath, kInteger, kBoolean };

struct Value {
  std::string text;  // kText, kPath (resolved against the configuration's directory)
  int number = 0;    // kInteger
  bool flag = false; // kBoolean
};

using Check = Result<void> (*)(const Value& value, const NodeConfig& earlier);
using Land = void (*)(NodeConfig& config, const Value& value);
using DefaultFrom = int (*)(const NodeConfig& earlier);

struct ConfigKey {
  const char* name = "";
  Kind kind = Kind::kText;
  bool required = false;              // by serve
  const char* defaultText = nullptr;  // kText: used when the key is absent; nullptr = not set
  int defaultNumber = 0;              // kInteger, kBoolean (0/1)
  int min = 0, max = 0;               // kInteger: accepted range
  DefaultFrom defaultFrom = nullptr;  // kInteger: default taken from a key above
  const char* defaultNote = nullptr;  // the documented default when it is not a plain value
  Check check = nullptr;              // beyond type and range; nullptr = none
  Land land = nullptr;                // nullptr = not part of NodeConfig

  ConfigKey& requiredKey() { required = true; return *this; }
  ConfigKey& defaultsTo(const char* text) { defaultText = text; return *this; }
  ConfigKey& defaultsFrom(DefaultFrom from, const char* note) { defaultFrom = from; defaultNote = note; return *this; }
  ConfigKey& documentedDefault(const char* note) { defaultNote = note; return *this; }
  ConfigKey& checkedBy(Check c) { check = c; return *this; }
  ConfigKey& landsIn(Land l) { land = l; return *this; }
};

ConfigKey text(const char* name) { return ConfigKey{name, Kind::kText}; }
ConfigKey path(const char* name) { return ConfigKey{name, Kind::kPath}; }
ConfigKey boolean(const char* name, bool defaultValue) {
  ConfigKey key{name, Kind::kBoolean};
  key.defaultNumber = defaultValue ? 1 : 0;
  return key;
}
ConfigKey integer(const char* name, int defaultValue, int min, int max) {
  ConfigKey key{name, Kind::kInteger};
  key.defaultNumber = defaultValue;
  key.min = min;
  key.max = max;
  return key;
}

Result<void> refuse(const std::string& message) { return tl::make_unexpected(configError(message)); }

Result<void> checkNodeId(const Value& v, const NodeConfig&) {
  // It names the audit chains and is signed raw in checkpoints: plain ASCII only.
  if (v.text.size() > 64 ||
      v.text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != std::string::npos) {
    return refuse("configuration key 'node.id' must be 1-64 of A-Z a-z 0-9 . _ -");
  }
  return {};
}

Result<void> checkLogOrigin(const Value& v, const NodeConfig&) {
  if (!audit::isValidOrigin(v.text)) {
    return refuse("configuration key 'audit.origin' must be 1-255 printable ASCII characters without spaces or '+'");
  }
  return {};
}

Result<void> checkOrganization(const Value& v, const NodeConfig&) {
  if (!auth::isValidOrganizationIdentifier(v.text)) {
    return refuse("configuration key 'node.organization' must be a urn:oid: identifier, not '" + v.text + "'");
  }
  return {};
}

Result<void> checkOcspMode(const Value& v, const NodeConfig&) {
  auth::OcspMode mode = auth::OcspMode::kOff;
  if (!auth::parseOcspMode(v.text, mode)) {
    return refuse("configuration key 'tls.ocsp' must be require, prefer or off, not '" + v.text + "'");
  }
  return {};
}

Result<void> checkOcspFitsHandshake(const Value& v, const NodeConfig& c) {
  if (c.ocspMode != auth::OcspMode::kOff && v.number >= c.listener.timeoutSeconds * 1000) {
    // The whole handshake, OCSP included, must finish within server.timeout.
    return refuse("configuration key 'tls.ocspTimeout' (" + std::to_string(v.number) +
                  " ms) must be shorter than server.timeout (" + std::to_string(c.listener.timeoutSeconds) +
                  " s): a handshake, its OCSP query included, is cut at server.timeout");
  }
  return {};
}

// "30, 7,1" -> {30, 7, 1}; nullopt unless every item is a whole number of days 1-9999.
std::optional<std::vector<int>> parseDays(const std::string& list) {
  std::vector<int> days;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    item = cleanValue(item);
    if (item.empty() || item.size() > 4 || item.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(item) < 1) {
      return std::nullopt;
    }
    days.push_back(std::stoi(item));
  }
  return days;
}

Result<void> checkDays(const Value& v, const NodeConfig&) {
  if (!parseDays(v.text)) {
    return refuse("configuration key 'tls.expiryWarningDays' must be a comma-separated list of whole days, e.g. 30,7,1");
  }
  return {};
}

Result<void> checkResourceTypes(const Value& v, const NodeConfig&) {
  auto types = parseResourceTypes(v.text);
  if (!types) return tl::make_unexpected(types.error());
  return {};
}

// records.writePurposes: known PurposeOfUse codes, comma-separated, at least one.
std::optional<std::set<std::string>> parseWritePurposes(const std::string& text) {
  std::set<std::string> out;
  std::stringstream in(text);
  std::string code;
  while (std::getline(in, code, ',')) {
    code.erase(0, code.find_first_not_of(' '));
    while (!code.empty() && code.back() == ' ') code.pop_back();
    if (!purpose::isKnown(code)) return std::nullopt;
    out.insert(code);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

Result<void> checkWritePurposes(const Value& v, const NodeConfig&) {
  if (!parseWritePurposes(v.text)) {
    return refuse("configuration key 'records.writePurposes' must be a comma-separated list of HL7 v3 PurposeOfUse "
                  "codes (e.g. HOPERAT,PATADMIN,RECORDMGT,TREAT,ETREAT)");
  }
  return {};
}

Result<void> checkBaseUrl(const Value& v, const NodeConfig&) {
  if (!v.text.empty() && !exchange::isPlainBaseUrl(v.text)) {
    return refuse("configuration key 'server.baseUrl' must be https://HOST[:PORT][/PATH] with a plain host name or IP "
                  "address, a port 1-65535 and a path of letters, digits and - . _ ~ /");
  }
  return {};
}

// udap.scopes: comma-separated scope names (printable ASCII, no spaces or quotes).
std::optional<std::vector<std::string>> parseUdapScopes(const std::string& csv) {
  std::vector<std::string> out;
  std::istringstream in(csv);
  std::string scope;
  while (std::getline(in, scope, ',')) {
    scope.erase(0, scope.find_first_not_of(' '));
    while (!scope.empty() && scope.back() == ' ') scope.pop_back();
    if (scope.empty()) return std::nullopt;
    for (char ch : scope) {
      if (ch <= 0x20 || ch >= 0x7f || ch == '"' || ch == '\\') return std::nullopt;
    }
    out.push_back(scope);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

Result<void> checkUdapScopes(const Value& v, const NodeConfig&) {
  if (!parseUdapScopes(v.text)) {
    return refuse("configuration key 'udap.scopes' must be a comma-separated list of scopes (e.g. system/*.read), "
                  "not '" + v.text + "'");
  }
  return {};
}

Result<void> checkUdapContact(const Value& v, const NodeConfig&) {
  if (v.text.compare(0, 7, "mailto:") != 0 || v.text.size() < 10 || v.text.find('@') == std::string::npos ||
      v.text.find_first_of(" \t\"") != std::string::npos) {
    return refuse("configuration key 'udap.contact' must be a mailto: URI (e.g. mailto:security@example.org), not '" +
                  v.text + "'");
  }
  return {};
}

Result<void> checkWitnessName(const Value& v, const NodeConfig&) {
  if (!audit::note::isValidKeyName(v.text)) {
    return refuse("configuration key 'witness.name' must be a signed-note key name: 1-255 printable ASCII "
                  "characters without spaces or '+', not '" + v.text + "'");
  }
  return {};
}

Result<void> checkAtnaFormat(const Value& v, const NodeConfig&) {
  if (v.text != "dicom" && v.text != "fhir") {
    return refuse("configuration key 'atna.format' must be dicom or fhir, not '" + v.text + "'");
  }
  return {};
}

// A host name or IP address: no spaces, no scheme, no port (atna.port says it).
Result<void> checkAtnaHostName(const char* key, const std::string& host) {
  const bool ipv6 = host.find(':') != std::string::npos &&
                    host.find_first_not_of("0123456789abcdefABCDEF:.") == std::string::npos;
  if (host.size() > 253 ||
      (!ipv6 && host.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-") != std::string::npos)) {
    return refuse(std::string("configuration key '") + key + "' must be a host name or IP address (without scheme or port), not '" +
                  host + "'");
  }
  return {};
}
Result<void> checkAtnaHost(const Value& v, const NodeConfig&) { return checkAtnaHostName("atna.host", v.text); }
Result<void> checkAtnaServerName(const Value& v, const NodeConfig&) { return checkAtnaHostName("atna.serverName", v.text); }

Result<void> checkPolicy(const char* key, const std::string& value) {
  if (!auth::parseSignaturePolicy(value)) {
    return refuse(std::string("configuration key '") + key + "' must be require, verify-if-present or off, not '" +
                  value + "'");
  }
  return {};
}
Result<void> checkRequestPolicy(const Value& v, const NodeConfig&) { return checkPolicy("signatures.requests", v.text); }
Result<void> checkAnswerPolicy(const Value& v, const NodeConfig&) { return checkPolicy("signatures.answers", v.text); }

const std::vector<ConfigKey>& keyTable() {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  static const std::vector<ConfigKey> kTable = {
      text("node.id").requiredKey().checkedBy(checkNodeId).landsIn([](NodeConfig& c, const Value& v) { c.nodeId = v.text; }),
      text("node.organization").requiredKey().checkedBy(checkOrganization).landsIn([](NodeConfig& c, const Value& v) {
        c.organization = v.text;
        c.exchange.ownOrganization = v.text;
      }),
      text("server.host").requiredKey().landsIn([](NodeConfig& c, const Value& v) { c.listener.host = v.text; }),
      integer("server.port", 0, 0, 65535).requiredKey().landsIn([](NodeConfig& c, const Value& v) {
        c.listener.port = static_cast<std::uint16_t>(v.number);
      }),
      integer("server.threads", 16, 1, 1024).landsIn([](NodeConfig& c, const Value& v) { c.listener.threads = v.number; }),
      integer("server.maxQueued", 64, 0, 65536).landsIn([](NodeConfig& c, const Value& v) { c.listener.maxQueued = v.number; }),
      integer("server.timeout", 10, 1, 300).landsIn([](NodeConfig& c, const Value& v) { c.listener.timeoutSeconds = v.number; }),
      integer("server.keepAliveTimeout", 5, 1, 300).landsIn([](NodeConfig& c, const Value& v) {
        c.listener.keepAliveSeconds = v.number;
      }),
      integer("server.maxKeepAliveRequests", 1000, 1, 1000000).landsIn([](NodeConfig& c, const Value& v) {
        c.listener.maxKeepAliveRequests = v.number;
      }),
      path("tls.certificate").requiredKey().landsIn([](NodeConfig& c, const Value& v) { c.tls.certificate = v.text; }),
      path("tls.privateKey").requiredKey().landsIn([](NodeConfig& c, const Value& v) { c.tls.privateKey = v.text; }),
      path("tls.trustBundle").requiredKey().landsIn([](NodeConfig& c, const Value& v) { c.tls.trustBundle = v.text; }),
      path("tls.crl").landsIn([](NodeConfig& c, const Value& v) { c.tls.crl = v.text; }),
      integer("tls.verifyDepth", 4, 1, 10).landsIn([](NodeConfig& c, const Value& v) { c.verifyDepth = v.number; }),
      integer("tls.sessionLifetime", 60, 0, 86400).landsIn([](NodeConfig& c, const Value& v) {
        c.sessionLifetimeSeconds = v.number;
      }),
      text("db.uri").requiredKey().landsIn([](NodeConfig& c, const Value& v) { c.dbUri = v.text; }),
      integer("registry.pollInterval", 500, 50, 2000).landsIn([](NodeConfig& c, const Value& v) {
        c.registryPollMillis = v.number;
      }),
      path("audit.signingKey").requiredKey().landsIn([](NodeConfig& c, const Value& v) { c.auditSigningKey = v.text; }),
      text("audit.origin").documentedDefault("hie-node/<node.id>/audit").checkedBy(checkLogOrigin).landsIn(
          [](NodeConfig& c, const Value& v) { c.auditOrigin = v.text; }),
      // Format v1 only: format v2 signs a checkpoint with every commit. Still read, so that
      // existing configuration files load.
      integer("audit.checkpointInterval", 60, 1, 86400),
      integer("audit.commitTimeout", 5000, 100, 60000).landsIn([](NodeConfig& c, const Value& v) {
        c.audit.commitTimeout = milliseconds(v.number);
      }),
      integer("audit.witnessInterval", 10, 1, 3600).landsIn([](NodeConfig& c, const Value& v) {
        c.witnessInterval = seconds(v.number);
      }),
      integer("audit.witnessTimeout", 5000, 100, 60000).landsIn([](NodeConfig& c, const Value& v) {
        c.witnessTimeout = milliseconds(v.number);
      }),
      path("witness.signingKey").landsIn([](NodeConfig& c, const Value& v) { c.witnessSigningKey = v.text; }),
      text("witness.name").documentedDefault("hie-node/<node.id>/witness").checkedBy(checkWitnessName).landsIn(
          [](NodeConfig& c, const Value& v) { c.witnessName = v.text; }),
      integer("exchange.deadline", 5000, 100, 120000).landsIn([](NodeConfig& c, const Value& v) {
        c.exchange.deadline = milliseconds(v.number);
      }),
      integer("exchange.maxParallel", 8, 1, 256).landsIn([](NodeConfig& c, const Value& v) { c.exchange.maxParallel = v.number; }),
      integer("client.connectTimeout", 2000, 50, 60000).landsIn([](NodeConfig& c, const Value& v) {
        c.client.connectTimeout = milliseconds(v.number);
      }),
      integer("client.readTimeout", 5000, 50, 120000).landsIn([](NodeConfig& c, const Value& v) {
        c.client.readTimeout = milliseconds(v.number);
      }),
      integer("client.retries", 1, 0, 5).landsIn([](NodeConfig& c, const Value& v) { c.client.retries = v.number; }),
      integer("client.maxResponseKiB", 16384, 1, 1048576).landsIn([](NodeConfig& c, const Value& v) {
        c.client.maxResponseBytes = static_cast<std::size_t>(v.number) * 1024;
      }),
      integer("client.maxConcurrentCalls", 32, 1, 1024).landsIn([](NodeConfig& c, const Value& v) {
        c.client.maxConcurrentCalls = v.number;
      }),
      text("tls.ocsp").defaultsTo("off").checkedBy(checkOcspMode).landsIn([](NodeConfig& c, const Value& v) {
        auth::parseOcspMode(v.text, c.ocspMode);
      }),
      integer("tls.ocspTimeout", 2000, 100, 30000).checkedBy(checkOcspFitsHandshake).landsIn([](NodeConfig& c, const Value& v) {
        c.ocspTimeout = milliseconds(v.number);
      }),
      text("tls.expiryWarningDays").defaultsTo("30,7,1").checkedBy(checkDays).landsIn([](NodeConfig& c, const Value& v) {
        c.expiryWarningDays = *parseDays(v.text);
      }),
      text("admin.host").defaultsTo("127.0.0.1").landsIn([](NodeConfig& c, const Value& v) { c.adminHost = v.text; }),
      integer("admin.port", 9090, 0, 65535).landsIn([](NodeConfig& c, const Value& v) {
        c.adminPort = static_cast<std::uint16_t>(v.number);
      }),
      integer("db.poolSize", 0, 1, 1024)
          .defaultsFrom([](const NodeConfig& c) { return c.listener.threads; }, "server.threads")
          .landsIn([](NodeConfig& c, const Value& v) { c.dbPoolSize = v.number; }),
      boolean("policy.breakGlass", false).landsIn([](NodeConfig& c, const Value& v) {
        c.records.policy.breakGlass = v.flag;
      }),
      integer("records.maxPageSize", 100, 1, 1000).landsIn([](NodeConfig& c, const Value& v) {
        c.records.limits.maxCount = v.number;
        c.records.limits.defaultCount = std::min(c.records.limits.defaultCount, v.number);
      }),
      text("records.types").documentedDefault("all seven").checkedBy(checkResourceTypes).landsIn([](NodeConfig& c, const Value& v) {
        c.records.resourceTypes = *parseResourceTypes(v.text);
      }),
      integer("records.maxRequestBytes", 8 * 1024 * 1024, 1024, 256 * 1024 * 1024).landsIn([](NodeConfig& c, const Value& v) {
        c.records.maxWriteBytes = static_cast<std::size_t>(v.number);
      }),
      integer("records.maxBundleEntries", 1000, 1, 100000).landsIn([](NodeConfig& c, const Value& v) {
        c.records.writeLimits.maxEntries = static_cast<std::size_t>(v.number);
      }),
      text("records.writePurposes").defaultsTo("HOPERAT,PATADMIN,RECORDMGT,TREAT,ETREAT").checkedBy(checkWritePurposes).landsIn(
          [](NodeConfig& c, const Value& v) { c.records.writePurposes = *parseWritePurposes(v.text); }),
      text("server.baseUrl").checkedBy(checkBaseUrl).landsIn([](NodeConfig& c, const Value& v) {
        c.baseUrl = v.text;
        while (!c.baseUrl.empty() && c.baseUrl.back() == '/') c.baseUrl.pop_back();
      }),
      // UDAP B2B (docs/udap.md): the authorization server's endpoints; they need server.baseUrl.
      boolean("udap.enabled", false).landsIn([](NodeConfig& c, const Value& v) { c.udap.enabled = v.flag; }),
      boolean("udap.requireToken", false).landsIn([](NodeConfig& c, const Value& v) { c.udap.requireToken = v.flag; }),
      integer("udap.tokenLifetime", 300, 60, 3600).landsIn([](NodeConfig& c, const Value& v) {
        c.udap.tokenLifetime = seconds(v.number);
      }),
      integer("udap.metadataLifetime", 86400, 60, 31536000).landsIn([](NodeConfig& c, const Value& v) {
        c.udap.metadataLifetime = seconds(v.number);
      }),
      text("udap.scopes").defaultsTo("system/*.read").checkedBy(checkUdapScopes).landsIn([](NodeConfig& c, const Value& v) {
        c.udap.scopes = *parseUdapScopes(v.text);
      }),
      text("udap.community").landsIn([](NodeConfig& c, const Value& v) { c.udap.community = v.text; }),
      text("udap.contact").checkedBy(checkUdapContact).landsIn([](NodeConfig& c, const Value& v) { c.udap.contact = v.text; }),
      text("udap.clientName").documentedDefault("hie-node <node.id>").landsIn([](NodeConfig& c, const Value& v) {
        c.udap.clientName = v.text;
      }),
      // Signed requests and answers (docs/api.md, "Signed requests and answers").
      text("signatures.requests").defaultsTo("verify-if-present").checkedBy(checkRequestPolicy).landsIn(
          [](NodeConfig& c, const Value& v) { c.signatures.requests = *auth::parseSignaturePolicy(v.text); }),
      text("signatures.answers").defaultsTo("verify-if-present").checkedBy(checkAnswerPolicy).landsIn(
          [](NodeConfig& c, const Value& v) { c.signatures.answers = *auth::parseSignaturePolicy(v.text); }),
      boolean("signatures.sign", true).landsIn([](NodeConfig& c, const Value& v) { c.signatures.sign = v.flag; }),
      integer("signatures.maxAge", 300, 1, 3600).landsIn([](NodeConfig& c, const Value& v) {
        c.signatures.maxAge = seconds(v.number);
      }),
      integer("signatures.clockSkew", 30, 0, 300).landsIn([](NodeConfig& c, const Value& v) {
        c.signatures.clockSkew = seconds(v.number);
      }),
      // The ATNA feed (docs/operations.md, "ATNA feed"): off unless atna.host is set.
      text("atna.host").checkedBy(checkAtnaHost).landsIn([](NodeConfig& c, const Value& v) { c.atna.host = v.text; }),
      integer("atna.port", 6514, 1, 65535).landsIn([](NodeConfig& c, const Value& v) { c.atna.port = v.number; }),
      text("atna.serverName").documentedDefault("atna.host").checkedBy(checkAtnaServerName).landsIn(
          [](NodeConfig& c, const Value& v) { c.atna.serverName = v.text; }),
      path("atna.trustBundle").documentedDefault("tls.trustBundle").landsIn([](NodeConfig& c, const Value& v) {
        c.atna.trustBundle = v.text;
      }),
      text("atna.format").defaultsTo("dicom").checkedBy(checkAtnaFormat).landsIn([](NodeConfig& c, const Value& v) {
        c.atna.format = v.text;
      }),
      integer("atna.batchSize", 100, 1, 10000).landsIn([](NodeConfig& c, const Value& v) { c.atna.batchSize = v.number; }),
      integer("atna.timeout", 5000, 100, 60000).landsIn([](NodeConfig& c, const Value& v) {
        c.atna.timeout = milliseconds(v.number);
      }),
      integer("atna.retryMax", 30, 1, 3600).landsIn([](NodeConfig& c, const Value& v) { c.atna.retryMax = seconds(v.number); }),
      integer("atna.maxMessageBytes", 262144, 2048, 16777216).landsIn([](NodeConfig& c, const Value& v) {
        c.atna.maxMessageBytes = v.number;
      }),
      integer("atna.enterpriseNumber", 32473, 1, 2147483647).landsIn([](NodeConfig& c, const Value& v) {
        c.atna.enterpriseNumber = v.number;
      }),
      // Read by `migrate` alone (ownerDatabaseUri), not by serve.
      text("db.ownerUri").documentedDefault("db.uri"),
  };
  return kTable;
}

const ConfigKey* findKey(const std::string& name) {
  for (const auto& key : keyTable()) {
    if (name == key.name) return &key;
  }
  return nullptr;
}

std::string documentedDefaultOf(const ConfigKey& key) {
  if (key.required) return "required";
  if (key.defaultNote != nullptr) return key.defaultNote;
  switch (key.kind) {
    case Kind::kInteger: return std::to_string(key.defaultNumber);
    case Kind::kBoolean: return key.defaultNumber != 0 ? "true" : "false";
    case Kind::kText:
    case Kind::kPath: break;
  }
  return key.defaultText != nullptr ? key.defaultText : "not set";
}

}  // namespace

std::string environmentName(const std::string& key) {
  std::string out = "HIE_";
  for (char c : key) out.push_back(c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

Result<ConfigSource> ConfigSource::load(const std::string& path, bool explicitPath) {
  std::map<std::string, std::string> values;
  std::string baseDir = Poco::Path::current();
  std::string description = "environment only";
  Poco::File file(path);
  bool exists = false;
  try {
    exists = file.exists() && file.isFile();
  } catch (const Poco::Exception&) {
    exists = false;
  }
  if (exists) {
    try {
      Poco::AutoPtr<Poco::Util::PropertyFileConfiguration> props = new Poco::Util::PropertyFileConfiguration(path);
      Poco::Util::AbstractConfiguration::Keys roots;
      props->keys(roots);
      std::vector<std::string> pending(roots.begin(), roots.end());
      while (!pending.empty()) {
        std::string key = pending.back();
        pending.pop_back();
        Poco::Util::AbstractConfiguration::Keys children;
        props->keys(key, children);
        for (const auto& child : children) pending.push_back(key + "." + child);
        if (props->hasProperty(key)) values[key] = props->getRawString(key);
      }
    } catch (const Poco::Exception& e) {
      return tl::make_unexpected(configError("cannot read configuration file " + path + ": " + e.displayText()));
    }
    baseDir = Poco::Path(Poco::Path(path).absolute()).parent().toString();
    description = path;
  } else if (explicitPath) {
    return tl::make_unexpected(configError("configuration file " + path + " does not exist or is not a file"));
  }
  for (const auto& [key, value] : values) {
    if (findKey(key) == nullptr) {
      return tl::make_unexpected(configError("unknown configuration key '" + key + "' in " + path));
    }
  }
  for (const auto& key : keyTable()) {
    if (const char* env = std::getenv(environmentName(key.name).c_str())) values[key.name] = env;
  }
  for (auto& [key, value] : values) {
    value = cleanValue(value);
    // An empty value is never "unset": an empty tls.crl must not switch off revocation.
    if (value.empty()) {
      return tl::make_unexpected(configError("configuration key '" + key + "' is set but empty; remove it or give "
                                             "it a value (environment variable " + environmentName(key) + ")"));
    }
  }
  ConfigSource source;
  source.values_ = std::move(values);
  source.baseDir_ = std::move(baseDir);
  source.description_ = std::move(description);
  return source;
}

ConfigSource ConfigSource::fromMap(std::map<std::string, std::string> values, std::string baseDir) {
  ConfigSource source;
  source.values_ = std::move(values);
  source.baseDir_ = std::move(baseDir);
  source.description_ = "map";
  return source;
}

std::optional<std::string> ConfigSource::get(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

Result<std::string> ConfigSource::require(const std::string& key) const {
  auto v = get(key);
  if (!v) {
    return tl::make_unexpected(configError("missing required configuration key '" + key + "' (set it in " +
                                           description_ + " or the environment variable " + environmentName(key) +
                                           ")"));
  }
  return *v;
}

std::optional<std::string> ConfigSource::optionalPath(const std::string& key) const {
  auto v = get(key);
  if (!v) return std::nullopt;
  Poco::Path p(*v);
  if (p.isAbsolute()) return *v;
  return Poco::Path(Poco::Path(baseDir_).makeDirectory(), p).toString();
}

Result<std::string> ConfigSource::requirePath(const std::string& key) const {
  auto v = require(key);
  if (!v) return v;
  return *optionalPath(key);
}

Result<int> ConfigSource::integer(const std::string& key, int defaultValue, int min, int max) const {
  auto v = get(key);
  if (!v) return defaultValue;
  const std::string bad = "configuration key '" + key + "' must be a whole number from " + std::to_string(min) +
                          " to " + std::to_string(max) + ", not '" + *v + "'";
  if (v->size() > 10 || v->find_first_not_of("0123456789") != std::string::npos) {
    return tl::make_unexpected(configError(bad));
  }
  const long n = std::stol(*v);
  if (n < min || n > max) return tl::make_unexpected(configError(bad));
  return static_cast<int>(n);
}

Result<bool> ConfigSource::boolean(const std::string& key, bool defaultValue) const {
  auto v = get(key);
  if (!v) return defaultValue;
  if (*v == "true") return true;
  if (*v == "false") return false;
  return tl::make_unexpected(configError("configuration key '" + key + "' must be true or false, not '" + *v + "'"));
}

Result<std::string> databaseUri(const ConfigSource& source) { return source.require("db.uri"); }

Result<std::string> ownerDatabaseUri(const ConfigSource& source) {
  if (auto owner = source.get("db.ownerUri")) return *owner;
  return source.require("db.uri");
}

Result<std::set<std::string>> parseResourceTypes(const std::string& csv) {
  std::set<std::string> types;
  std::size_t pos = 0;
  while (pos <= csv.size()) {
    std::size_t end = csv.find(',', pos);
    if (end == std::string::npos) end = csv.size();
    std::string t = cleanValue(csv.substr(pos, end - pos));
    if (exchange::defaultResourceTypes().count(t) == 0) {
      std::string supported;
      for (const auto& known : exchange::defaultResourceTypes()) supported += (supported.empty() ? "" : ", ") + known;
      return tl::make_unexpected(configError("configuration key 'records.types': '" + t +
                                             "' is not a supported resource type (" + supported + ")"));
    }
    types.insert(t);
    pos = end + 1;
  }
  if (types.count("Patient") == 0) {
    return tl::make_unexpected(configError("configuration key 'records.types' must include Patient"));
  }
  return types;
}

std::vector<ConfigKeyInfo> configurationKeys() {
  std::vector<ConfigKeyInfo> keys;
  for (const auto& key : keyTable()) {
    ConfigKeyInfo info{key.name, documentedDefaultOf(key), std::nullopt};
    if (key.kind == Kind::kInteger) info.range = std::make_pair(key.min, key.max);
    keys.push_back(std::move(info));
  }
  return keys;
}

Result<NodeConfig> serveConfig(const ConfigSource& s) {
  NodeConfig c;
  for (const ConfigKey& key : keyTable()) {
    Value v;
    if (key.required) {
      auto present = s.require(key.name);
      if (!present) return tl::make_unexpected(present.error());
    }
    switch (key.kind) {
      case Kind::kText: {
        auto text = s.get(key.name);
        if (!text && key.defaultText == nullptr) continue;
        v.text = text ? *text : key.defaultText;
        break;
      }
      case Kind::kPath: {
        auto resolved = s.optionalPath(key.name);
        if (!resolved) continue;
        v.text = *resolved;
        break;
      }
      case Kind::kInteger: {
        auto number = s.integer(key.name, key.defaultFrom ? key.defaultFrom(c) : key.defaultNumber, key.min, key.max);
        if (!number) return tl::make_unexpected(number.error());
        v.number = *number;
        break;
      }
      case Kind::kBoolean: {
        auto flag = s.boolean(key.name, key.defaultNumber != 0);
        if (!flag) return tl::make_unexpected(flag.error());
        v.flag = *flag;
        break;
      }
    }
    if (key.check != nullptr) {
      if (auto checked = key.check(v, c); !checked) return tl::make_unexpected(checked.error());
    }
    if (key.land != nullptr) key.land(c, v);
  }
  // Settings derived from the keys rather than read.
  if (c.auditOrigin.empty()) c.auditOrigin = audit::defaultLogOrigin(c.nodeId);
  c.exchange.resourceTypes = c.records.resourceTypes;
  if (c.witnessName.empty()) c.witnessName = "hie-node/" + c.nodeId + "/witness";
  if (c.atna.serverName.empty()) c.atna.serverName = c.atna.host;
  if (c.atna.trustBundle.empty()) c.atna.trustBundle = c.tls.trustBundle;
  if (c.udap.clientName.empty()) c.udap.clientName = "hie-node " + c.nodeId;
  if (c.udap.requireToken && !c.udap.enabled) {
    return tl::make_unexpected(configError(
        "udap.requireToken is true but udap.enabled is false: a node that requires access tokens must issue them"));
  }
  if (c.udap.enabled && c.baseUrl.empty()) {
    return tl::make_unexpected(configError(
        "udap.enabled is true but server.baseUrl is not set: UDAP needs the node's public base URL (its FHIR base "
        "server.baseUrl + \"/fhir\" is the iss of signed_metadata and a SAN URI of the TLS certificate)"));
  }
  return c;
}

std::string logOrigin(const NodeConfig& config) { return config.auditOrigin; }

}  // namespace hie::app

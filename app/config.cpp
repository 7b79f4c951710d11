#include "app/config.h"

#include <cctype>
#include <cstdlib>
#include <algorithm>
#include <set>
#include <sstream>

#include <Poco/AutoPtr.h>
#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/Path.h>
#include <Poco/Util/PropertyFileConfiguration.h>

#include "auth/registry/organization.h"
#include "auth/tls/ocsp_checker.h"
#include "exchange/handlers/record_api.h"
#include "exchange/http/base_url.h"

namespace hie::app {
namespace {

// Every key hie-node reads. A key outside this list is an error: a typo in
// tls.crl must not silently switch off revocation checking.
const std::set<std::string>& knownKeys() {
  static const std::set<std::string> kKeys = {
      "node.id",          "node.organization",       "server.host",          "server.port",
      "server.threads",   "server.maxQueued",        "server.timeout",       "server.keepAliveTimeout",
      "server.maxKeepAliveRequests",                 "tls.certificate",      "tls.privateKey",
      "tls.trustBundle",  "tls.crl",                 "tls.verifyDepth",      "db.uri",
      "audit.signingKey", "admin.host",              "admin.port",           "registry.pollInterval",
      "server.baseUrl",   "db.poolSize",             "policy.breakGlass",    "records.types",
      "records.maxPageSize", "audit.checkpointInterval", "audit.commitTimeout", "db.ownerUri",
      "exchange.deadline", "exchange.maxParallel", "client.connectTimeout", "client.readTimeout", "client.retries",
      "client.maxResponseKiB", "client.maxConcurrentCalls",
      "tls.expiryWarningDays", "tls.ocsp", "tls.ocspTimeout",
      "tls.sessionLifetime",
  };
  return kKeys;
}

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
    if (knownKeys().count(key) == 0) {
      return tl::make_unexpected(configError("unknown configuration key '" + key + "' in " + path));
    }
  }
  for (const auto& key : knownKeys()) {
    if (const char* env = std::getenv(environmentName(key).c_str())) values[key] = env;
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

Result<NodeConfig> serveConfig(const ConfigSource& s) {
  NodeConfig c;
#define HIE_TRY(target, expr)                          \
  {                                                    \
    auto r_ = (expr);                                  \
    if (!r_) return tl::make_unexpected(r_.error());   \
    target = *r_;                                      \
  }
  HIE_TRY(c.nodeId, s.require("node.id"));
  // It names the audit chains and is signed raw in checkpoints: plain ASCII only.
  if (c.nodeId.size() > 64 || c.nodeId.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") !=
                                  std::string::npos) {
    return tl::make_unexpected(configError("configuration key 'node.id' must be 1-64 of A-Z a-z 0-9 . _ -"));
  }
  HIE_TRY(c.organization, s.require("node.organization"));
  if (!auth::isValidOrganizationIdentifier(c.organization)) {
    return tl::make_unexpected(configError("configuration key 'node.organization' must be a urn:oid: identifier, not '" +
                                           c.organization + "'"));
  }
  HIE_TRY(c.listener.host, s.require("server.host"));
  std::string portText;
  HIE_TRY(portText, s.require("server.port"));
  int port = 0;
  HIE_TRY(port, s.integer("server.port", 0, 0, 65535));
  c.listener.port = static_cast<std::uint16_t>(port);
  HIE_TRY(c.listener.threads, s.integer("server.threads", 16, 1, 1024));
  HIE_TRY(c.listener.maxQueued, s.integer("server.maxQueued", 64, 0, 65536));
  HIE_TRY(c.listener.timeoutSeconds, s.integer("server.timeout", 10, 1, 300));
  HIE_TRY(c.listener.keepAliveSeconds, s.integer("server.keepAliveTimeout", 5, 1, 300));
  HIE_TRY(c.listener.maxKeepAliveRequests, s.integer("server.maxKeepAliveRequests", 1000, 1, 1000000));
  HIE_TRY(c.tls.certificate, s.requirePath("tls.certificate"));
  HIE_TRY(c.tls.privateKey, s.requirePath("tls.privateKey"));
  HIE_TRY(c.tls.trustBundle, s.requirePath("tls.trustBundle"));
  c.tls.crl = s.optionalPath("tls.crl").value_or("");
  HIE_TRY(c.verifyDepth, s.integer("tls.verifyDepth", 4, 1, 10));
  HIE_TRY(c.sessionLifetimeSeconds, s.integer("tls.sessionLifetime", 60, 0, 86400));
  HIE_TRY(c.dbUri, s.require("db.uri"));
  HIE_TRY(c.registryPollMillis, s.integer("registry.pollInterval", 500, 50, 2000));
  HIE_TRY(c.auditSigningKey, s.requirePath("audit.signingKey"));
  int checkpointSeconds = 60;
  HIE_TRY(checkpointSeconds, s.integer("audit.checkpointInterval", 60, 1, 86400));
  c.audit.checkpointInterval = std::chrono::seconds(checkpointSeconds);
  int commitTimeoutMs = 5000;
  HIE_TRY(commitTimeoutMs, s.integer("audit.commitTimeout", 5000, 100, 60000));
  c.audit.commitTimeout = std::chrono::milliseconds(commitTimeoutMs);
  int ms = 0;
  HIE_TRY(ms, s.integer("exchange.deadline", 5000, 100, 120000));
  c.exchange.deadline = std::chrono::milliseconds(ms);
  HIE_TRY(c.exchange.maxParallel, s.integer("exchange.maxParallel", 8, 1, 256));
  HIE_TRY(ms, s.integer("client.connectTimeout", 2000, 50, 60000));
  c.client.connectTimeout = std::chrono::milliseconds(ms);
  HIE_TRY(ms, s.integer("client.readTimeout", 5000, 50, 120000));
  c.client.readTimeout = std::chrono::milliseconds(ms);
  HIE_TRY(c.client.retries, s.integer("client.retries", 1, 0, 5));
  int responseKiB = 16384;
  HIE_TRY(responseKiB, s.integer("client.maxResponseKiB", 16384, 1, 1048576));
  c.client.maxResponseBytes = static_cast<std::size_t>(responseKiB) * 1024;
  HIE_TRY(c.client.maxConcurrentCalls, s.integer("client.maxConcurrentCalls", 32, 1, 1024));
  c.exchange.ownOrganization = c.organization;
  if (auto ocsp = s.get("tls.ocsp"); ocsp && !auth::parseOcspMode(*ocsp, c.ocspMode)) {
    return tl::make_unexpected(configError("configuration key 'tls.ocsp' must be require, prefer or off, not '" + *ocsp + "'"));
  }
  int ocspMs = 2000;
  HIE_TRY(ocspMs, s.integer("tls.ocspTimeout", 2000, 100, 30000));
  c.ocspTimeout = std::chrono::milliseconds(ocspMs);
  if (c.ocspMode != auth::OcspMode::kOff && ocspMs >= c.listener.timeoutSeconds * 1000) {
    // The whole handshake, OCSP included, must finish within server.timeout.
    return tl::make_unexpected(configError(
        "configuration key 'tls.ocspTimeout' (" + std::to_string(ocspMs) + " ms) must be shorter than server.timeout (" +
        std::to_string(c.listener.timeoutSeconds) + " s): a handshake, its OCSP query included, is cut at server.timeout"));
  }
  if (auto days = s.get("tls.expiryWarningDays")) {
    c.expiryWarningDays.clear();
    std::stringstream in(*days);
    std::string item;
    while (std::getline(in, item, ',')) {
      item = cleanValue(item);
      if (item.empty() || item.size() > 4 || item.find_first_not_of("0123456789") != std::string::npos ||
          std::stoi(item) < 1) {
        return tl::make_unexpected(configError("configuration key 'tls.expiryWarningDays' must be a comma-separated "
                                               "list of whole days, e.g. 30,7,1"));
      }
      c.expiryWarningDays.push_back(std::stoi(item));
    }
  }
  c.adminHost = s.get("admin.host").value_or("127.0.0.1");
  int adminPort = 9090;
  HIE_TRY(adminPort, s.integer("admin.port", 9090, 0, 65535));
  c.adminPort = static_cast<std::uint16_t>(adminPort);
  HIE_TRY(c.dbPoolSize, s.integer("db.poolSize", c.listener.threads, 1, 1024));
  HIE_TRY(c.records.policy.breakGlass, s.boolean("policy.breakGlass", false));
  HIE_TRY(c.records.limits.maxCount, s.integer("records.maxPageSize", 100, 1, 1000));
  c.records.limits.defaultCount = std::min(c.records.limits.defaultCount, c.records.limits.maxCount);
  if (auto types = s.get("records.types")) {
    auto parsed = parseResourceTypes(*types);
    if (!parsed) return tl::make_unexpected(parsed.error());
    c.records.resourceTypes = *parsed;
  }
  c.exchange.resourceTypes = c.records.resourceTypes;
  c.baseUrl = s.get("server.baseUrl").value_or("");
  if (!c.baseUrl.empty() && !exchange::isPlainBaseUrl(c.baseUrl)) {
    return tl::make_unexpected(configError(
        "configuration key 'server.baseUrl' must be https://HOST[:PORT][/PATH] with a plain host name or IP address, "
        "a port 1-65535 and a path of letters, digits and - . _ ~ /"));
  }
  while (!c.baseUrl.empty() && c.baseUrl.back() == '/') c.baseUrl.pop_back();
#undef HIE_TRY
  return c;
}

}  // namespace hie::app

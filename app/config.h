// Node configuration: a Poco properties file, every key overridable by an
// environment variable (db.uri -> HIE_DB_URI). Parsed and validated once.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <vector>
#include <string>

#include "audit/audit_writer.h"
#include "auth/signatures/signature_policy.h"
#include "auth/tls/ocsp_mode.h"
#include "auth/tls/tls_files.h"
#include "common/result.h"
#include "exchange/handlers/exchange_api.h"
#include "exchange/handlers/record_api.h"
#include "exchange/http/https_server.h"
#include "exchange/peers/client_options.h"

namespace hie::app {

// Raw key/value view: the file's values overridden by HIE_* variables.
class ConfigSource {
 public:
  // path: the file; explicit: whether the user named it (--config or HIE_CONFIG).
  // A named file that cannot be read is an error; the default one may be absent.
  static Result<ConfigSource> load(const std::string& path, bool explicitPath);
  static ConfigSource fromMap(std::map<std::string, std::string> values, std::string baseDir);

  std::optional<std::string> get(const std::string& key) const;
  Result<std::string> require(const std::string& key) const;
  // Relative paths resolve against the config file's directory.
  Result<std::string> requirePath(const std::string& key) const;
  std::optional<std::string> optionalPath(const std::string& key) const;
  Result<int> integer(const std::string& key, int defaultValue, int min, int max) const;
  Result<bool> boolean(const std::string& key, bool defaultValue) const;
  const std::string& baseDir() const { return baseDir_; }
  const std::string& describe() const { return description_; }

 private:
  std::map<std::string, std::string> values_;
  std::string baseDir_;
  std::string description_;
};

// The environment variable that overrides key: HIE_ + key upper-cased, '.' -> '_'.
std::string environmentName(const std::string& key);

struct NodeConfig {
  std::string nodeId;
  std::string organization;
  exchange::ListenerOptions listener;
  auth::TlsFiles tls;
  int verifyDepth = 4;
  int sessionLifetimeSeconds = 60;  // tls.sessionLifetime; 0 = no session resumption
  std::string dbUri;
  int registryPollMillis = 500;
  int dbPoolSize = 16;
  std::string auditSigningKey;
  std::string auditOrigin;  // the transparency log's origin and key name (audit.origin)
  audit::WriterOptions audit;
  exchange::RecordApiSettings records;
  std::string baseUrl;  // server.baseUrl without a trailing '/'; "" = per request (exchange::publicBaseUrl)
  exchange::ExchangeOptions exchange;
  exchange::ClientOptions client;
  std::string adminHost = "127.0.0.1";  // plain HTTP: /healthz /readyz /metrics
  std::uint16_t adminPort = 9090;       // 0 = any free port
  std::vector<int> expiryWarningDays{30, 7, 1};
  auth::OcspMode ocspMode = auth::OcspMode::kOff;  // tls.ocsp: off | prefer | require
  std::chrono::milliseconds ocspTimeout{2000};
  // Witnessing (docs/api.md, "Witness"): submitting this node's checkpoints to its peers, and
  // cosigning theirs when witness.signingKey is set.
  std::chrono::seconds witnessInterval{10};           // audit.witnessInterval
  std::chrono::milliseconds witnessTimeout{5000};     // audit.witnessTimeout
  std::string witnessSigningKey;  // witness.signingKey; "" = this node is no witness
  std::string witnessName;        // witness.name; default hie-node/<node.id>/witness
  auth::SignatureSettings signatures;  // signatures.*
  // The ATNA feed (docs/operations.md, "ATNA feed"): off when host is empty.
  struct Atna {
    std::string host;         // atna.host
    int port = 6514;          // atna.port
    std::string serverName;   // atna.serverName; default host
    std::string trustBundle;  // atna.trustBundle; default tls.trustBundle
    std::string format = "dicom";  // atna.format: dicom | fhir
    int batchSize = 100;
    std::chrono::milliseconds timeout{5000};
    std::chrono::seconds retryMax{30};
    int maxMessageBytes = 262144;
    int enterpriseNumber = 32473;  // atna.enterpriseNumber: the SD-ID is hie-audit@N
  } atna;
  // UDAP B2B (docs/udap.md): the server endpoints when enabled, and this node as a client of peers
  // whose directory entry says auth=udap.
  struct Udap {
    bool enabled = false;                       // udap.enabled: serve discovery, /oauth/register, /oauth/token
    bool requireToken = false;                  // udap.requireToken: /fhir reads need an access token
    std::chrono::seconds tokenLifetime{300};    // udap.tokenLifetime: 60-3600
    std::chrono::seconds metadataLifetime{86400};  // udap.metadataLifetime: exp - iat of signed_metadata
    std::vector<std::string> scopes{"system/*.read"};  // udap.scopes: scopes_supported
    std::string community;                      // udap.community: the trust community URI, "" = none named
    std::string contact;                        // udap.contact: mailto: URI for this node's registrations
    std::string clientName;                     // udap.clientName; default "hie-node <node.id>"
  } udap;
};

// This node's log origin (and log key name): for now always defaultLogOrigin(node.id).
std::string logOrigin(const NodeConfig& config);

// One key hie-node reads, as docs/configuration.md must show it.
struct ConfigKeyInfo {
  std::string name;
  std::string documentedDefault;             // "required", "16", "not set", "server.threads", ...
  std::optional<std::pair<int, int>> range;  // integers: the accepted range, inclusive
};

// Every key hie-node reads, in the order serve reads them; any other key is an error.
std::vector<ConfigKeyInfo> configurationKeys();

// "Patient, Observation" -> the set; each must be a supported type and Patient must be there.
Result<std::set<std::string>> parseResourceTypes(const std::string& csv);

// Everything `serve` needs; a missing required key is an error naming it.
Result<NodeConfig> serveConfig(const ConfigSource& source);

// The database URI alone (org, grant, records, ...: the runtime role).
Result<std::string> databaseUri(const ConfigSource& source);
// The schema owner's URI for `migrate` and tamper-proofing checks: db.ownerUri, else db.uri.
Result<std::string> ownerDatabaseUri(const ConfigSource& source);

}  // namespace hie::app

#include "app/command_support.h"

#include <cstdlib>
#include <iostream>

#include "app/commands.h"

namespace hie::app {

int usageError(const std::string& message) {
  std::cerr << "hie-node: " << message << "\n";
  return 2;
}

int runtimeError(const std::string& message) {
  std::cerr << "hie-node: " << message << "\n";
  return 1;
}

int commandError(const Error& e) {
  if (e.code == ErrorCode::kInvalidInput) return usageError(e.external);
  return runtimeError(e.internal == e.external ? e.external : e.external + " (" + e.internal + ")");
}

Result<ConfigSource> loadConfigFor(const ParsedArgs& args) {
  if (args.has("config")) return ConfigSource::load(args.value("config"), true);
  if (const char* env = std::getenv("HIE_CONFIG"); env != nullptr && *env != '\0') {
    return ConfigSource::load(env, true);
  }
  return ConfigSource::load("config/node.properties", false);
}

}  // namespace hie::app

namespace hie::app {

Result<std::string> runtimeDatabaseUri(const ParsedArgs& args) {
  auto config = loadConfigFor(args);
  if (!config) return tl::make_unexpected(config.error());
  return databaseUri(*config);
}

}  // namespace hie::app

namespace hie::app {

exchange::UdapClientOptions udapClientOptions(const NodeConfig& config) {
  exchange::UdapClientOptions options;
  options.organization = config.organization;
  options.clientName = config.udap.clientName;
  options.contact = config.udap.contact;
  return options;
}

Result<std::optional<audit::SigningKey>> loadWitnessKey(const NodeConfig& config, const audit::SigningKey& auditKey) {
  if (config.witnessSigningKey.empty()) return std::optional<audit::SigningKey>();
  auto key = audit::SigningKey::fromPemFile(config.witnessSigningKey);
  if (!key) return fail(ErrorCode::kInvalidInput, "witness.signingKey: " + key.error().external);
  if (key->rawPublicKey() == auditKey.rawPublicKey()) {
    return fail(ErrorCode::kInvalidInput, "witness.signingKey must not be the audit signing key (audit.signingKey): "
                                          "make a separate one with `hie-node audit keygen --out FILE`");
  }
  return std::optional<audit::SigningKey>(std::move(*key));
}

}  // namespace hie::app

// Pieces every subcommand uses: finding and loading the configuration.
#pragma once

#include <string>

#include <optional>

#include "app/cli.h"
#include "app/config.h"
#include "audit/signing_key.h"
#include "exchange/peers/udap_peer_fanout.h"

namespace hie::app {

// --config FILE, else $HIE_CONFIG, else config/node.properties.
Result<ConfigSource> loadConfigFor(const ParsedArgs& args);

// The runtime role's database URI (db.uri) from that configuration.
Result<std::string> runtimeDatabaseUri(const ParsedArgs& args);

// The witness key of witness.signingKey (nullopt when not set). kInvalidInput when it is not an
// Ed25519 key, or when it is the audit key: one key must not sign for two signature types.
Result<std::optional<audit::SigningKey>> loadWitnessKey(const NodeConfig& config, const audit::SigningKey& auditKey);

// This node as a UDAP client of auth=udap peers (serve's /exchange and fetch): node.organization,
// udap.contact, udap.clientName.
exchange::UdapClientOptions udapClientOptions(const NodeConfig& config);

}  // namespace hie::app

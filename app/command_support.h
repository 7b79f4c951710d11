// Pieces every subcommand uses: finding and loading the configuration.
#pragma once

#include <string>

#include "app/cli.h"
#include "app/config.h"

namespace hie::app {

// --config FILE, else $HIE_CONFIG, else config/node.properties.
Result<ConfigSource> loadConfigFor(const ParsedArgs& args);

// The runtime role's database URI (db.uri) from that configuration.
Result<std::string> runtimeDatabaseUri(const ParsedArgs& args);

}  // namespace hie::app

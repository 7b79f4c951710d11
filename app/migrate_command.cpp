#include <iostream>

#include "app/command_support.h"
#include "app/commands.h"
#include "db/connection.h"
#include "db/migrations.h"

namespace hie::app {

int runMigrate(const Args& argv) {
  auto args = parseArgs(argv, {});
  if (!args) return usageError(args.error().external);
  if (!args->positional.empty()) return usageError("migrate takes no arguments");
  auto config = loadConfigFor(*args);
  if (!config) return runtimeError(config.error().external);
  auto uri = ownerDatabaseUri(*config);
  if (!uri) return runtimeError(uri.error().external);
  auto conn = db::connect(*uri);
  if (!conn) return runtimeError(conn.error().internal);
  auto applied = db::applyMigrations(**conn, db::embeddedMigrations(), [](const db::Migration& m) {
    std::cout << "applied migration " << m.version << " (" << m.name << ")\n";
  });
  if (!applied) return runtimeError(applied.error().internal);
  const auto& all = db::embeddedMigrations();
  std::cout << (*applied == 0 ? "schema already up to date" : "schema migrated") << " at version "
            << (all.empty() ? 0 : all.back().version) << "\n";
  return 0;
}

}  // namespace hie::app

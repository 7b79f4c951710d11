#include <iostream>

#include "app/command_support.h"
#include "app/commands.h"
#include "common/file.h"
#include "auth/tls/tls_material.h"
#include "db/connection.h"
#include "exchange/fhir/bundle_import.h"
#include "exchange/records/postgres_record_store.h"

namespace hie::app {

int runRecords(const Args& argv) {
  if (argv.empty() || argv.front() != "import") {
    return usageError("usage: hie-node records import BUNDLE.json");
  }
  auto args = parseArgs(Args(argv.begin() + 1, argv.end()), {});
  if (!args) return usageError(args.error().external);
  if (args->positional.size() != 1) return usageError("usage: hie-node records import BUNDLE.json");
  const std::string& path = args->positional.front();
  auto config = loadConfigFor(*args);
  if (!config) return runtimeError(config.error().external);
  std::set<std::string> types = exchange::defaultResourceTypes();
  if (auto configured = config->get("records.types")) {
    auto parsed = parseResourceTypes(*configured);
    if (!parsed) return runtimeError(parsed.error().external);
    types = *parsed;
  }
  auto uri = databaseUri(*config);
  if (!uri) return runtimeError(uri.error().external);

  auto text = readFile(path, "bundle file");
  if (!text) return runtimeError(text.error().external);
  const exchange::ImportCheck check = exchange::checkBundle(*text, types);
  if (!check.ok()) {
    std::cerr << "hie-node: " << path << " was not imported; nothing was stored:\n";
    std::size_t shown = 0;
    for (const auto& p : check.problems) {
      if (++shown > 50) {
        std::cerr << "  ... and " << check.problems.size() - 50 << " more\n";
        break;
      }
      std::cerr << "  " << (p.index < 0 ? std::string("bundle") : "entry " + std::to_string(p.index)) << ": "
                << p.reason << "\n";
    }
    return 1;
  }
  auto conn = db::connect(*uri);
  if (!conn) return runtimeError(conn.error().internal);
  auto summary = exchange::importBundle(**conn, check);
  if (!summary) {
    return runtimeError(path + " was not imported; nothing was stored: " + summary.error().internal);
  }
  std::cout << "imported " << check.resources.size() << " resources from " << path << " (" << summary->created
            << " new, " << summary->updated << " updated)\n";
  return 0;
}

}  // namespace hie::app

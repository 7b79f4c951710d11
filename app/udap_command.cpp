// udap clients list | cancel CLIENT_ID: the UDAP client applications registered at this node
// (POST /oauth/register; docs/udap.md). A cancelled client gets no more tokens (invalid_client),
// and its tokens stop working at the FHIR API within registry.pollInterval.
#include <iostream>

#include "app/command_support.h"
#include "app/commands.h"
#include "db/connection_pool.h"
#include "exchange/http/pg_udap_store.h"

namespace hie::app {

int runUdap(const Args& argv) {
  const char* usage = "usage: hie-node udap clients list | hie-node udap clients cancel CLIENT_ID";
  if (argv.size() < 2 || argv[0] != "clients") return usageError(usage);
  const std::string verb = argv[1];
  if (verb != "list" && verb != "cancel") return usageError("unknown udap clients subcommand '" + verb + "'\n" + usage);
  auto args = parseArgs(Args(argv.begin() + 2, argv.end()), OptionSpec{});
  if (!args) return usageError(args.error().external);
  if (verb == "list" && !args->positional.empty()) return usageError("udap clients list takes no arguments");
  if (verb == "cancel" && args->positional.size() != 1) return usageError("usage: hie-node udap clients cancel CLIENT_ID");
  auto uri = runtimeDatabaseUri(*args);
  if (!uri) return runtimeError(uri.error().external);
  db::ConnectionPool pool(*uri, 1);
  exchange::PgUdapClientStore store(pool);
  if (verb == "cancel") {
    const std::string& clientId = args->positional.front();
    auto cancelled = store.cancelById(clientId);
    if (!cancelled) return commandError(cancelled.error());
    if (!*cancelled) return runtimeError("no active UDAP client " + clientId);
    std::cout << "cancelled UDAP client " << clientId << "\n";
    return 0;
  }
  auto clients = store.list();
  if (!clients) return commandError(clients.error());
  if (clients->empty()) std::cout << "no UDAP clients\n";
  for (const auto& c : *clients) {
    std::cout << c.clientId << "  " << (c.active ? "active" : "cancelled") << "  " << c.organization << "  "
              << c.sanUri << "  registered " << c.registeredAt << "  updated " << c.updatedAt << "\n";
    std::cout << "  name: " << c.clientName << "\n  scope: " << c.scope << "\n  contacts:";
    for (const auto& contact : c.contacts) std::cout << " " << contact;
    std::cout << "\n  certificate sha256: " << c.certSha256 << "\n";
  }
  return 0;
}

}  // namespace hie::app

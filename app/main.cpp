// hie-node: one institution's node in a health information exchange.
#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "app/commands.h"

namespace {

const char* const kUsage =
    "usage: hie-node COMMAND [--config FILE] ...\n"
    "commands:\n"
    "  serve                      run the mTLS node\n"
    "  migrate                    apply database migrations\n"
    "  org add|list|suspend|reactivate|pin-cert   manage member organizations\n"
    "  grant add|list|revoke      what an organization may read, for which purposes\n"
    "  consent set                a patient's opt-out or denial of an organization\n"
    "  records import BUNDLE      load a FHIR Bundle into the record store\n"
    "  audit keygen|keys|verify|export|checkpoint|consistency|evidence|report   the signed audit trail\n"
    "  peer add|list|remove       the peer directory (where other members' nodes answer)\n"
    "  fetch --peer ID --patient-identifier SYSTEM|VALUE   one outbound query, printed\n"
    "  pki init|issue|revoke|crl  a development CA (NOT for production)\n"
    "  udap clients list|cancel CLIENT_ID   UDAP client applications registered at this node\n"
    "configuration: --config FILE, else $HIE_CONFIG, else config/node.properties";

void setUpLogging() {
  auto logger = spdlog::stderr_color_mt("hie", spdlog::color_mode::never);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l %v");
  spdlog::set_default_logger(logger);
  spdlog::flush_on(spdlog::level::info);
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args.front() == "--help" || args.front() == "-h" || args.front() == "help") {
    std::cout << kUsage << "\n";
    return args.empty() ? 2 : 0;
  }
  setUpLogging();
  const std::string command = args.front();
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  int status = 2;
  try {
    if (command == "serve") status = hie::app::runServe(rest);
    else if (command == "migrate") status = hie::app::runMigrate(rest);
    else if (command == "org") status = hie::app::runOrg(rest);
    else if (command == "grant") status = hie::app::runGrant(rest);
    else if (command == "consent") status = hie::app::runConsent(rest);
    else if (command == "records") status = hie::app::runRecords(rest);
    else if (command == "audit") status = hie::app::runAudit(rest);
    else if (command == "peer") status = hie::app::runPeer(rest);
    else if (command == "fetch") status = hie::app::runFetch(rest);
    else if (command == "pki") status = hie::app::runPki(rest);
    else if (command == "udap") status = hie::app::runUdap(rest);
    else status = hie::app::usageError("unknown command '" + command + "'\n" + kUsage);
  } catch (const std::exception& e) {
    // Exceptions should have been translated where they arose; this is the last line.
    spdlog::critical("unexpected error: {}", e.what());
    status = 1;
  }
  spdlog::shutdown();
  return status;
}

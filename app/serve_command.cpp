#include <csignal>
#include <ctime>
#include <pthread.h>

#include <Poco/Net/PrivateKeyPassphraseHandler.h>
#include <Poco/Net/RejectCertificateHandler.h>
#include <Poco/Net/SSLManager.h>
#include <spdlog/spdlog.h>

#include "app/command_support.h"
#include "app/commands.h"
#include "audit/audit_writer.h"
#include "audit/signing_key.h"
#include "auth/organization_registry.h"
#include "auth/registry_repository.h"
#include "auth/server_tls_context.h"
#include "auth/tls_material.h"
#include "common/counters.h"
#include "db/connection.h"
#include "db/connection_pool.h"
#include "exchange/record_api.h"
#include "exchange/record_store.h"
#include "db/migrations.h"
#include "exchange/audit_api.h"
#include "exchange/capability_statement.h"
#include "exchange/https_server.h"
#include "exchange/request_gate.h"

#ifndef HIE_VERSION
#define HIE_VERSION "0.0.0"
#endif

namespace hie::app {
namespace {

// Poco must never prompt on stdin for a passphrase.
class NoPassphrase : public Poco::Net::PrivateKeyPassphraseHandler {
 public:
  explicit NoPassphrase(bool serverSide) : PrivateKeyPassphraseHandler(serverSide) {}
  void onPrivateKeyRequested(const void*, std::string& passphrase) override { passphrase.clear(); }
};

std::string isoTime(std::int64_t epoch) {
  std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void warnAboutDates(const auth::TlsMaterial& material, const auth::TlsFiles& files) {
  const std::int64_t now = std::time(nullptr);
  for (const auto& crl : material.crlInfo) {
    if (crl.nextUpdate != 0 && crl.nextUpdate < now) {
      spdlog::error("CRL of {} in {} is past its nextUpdate ({}); every client certificate it covers is refused "
                    "until a current CRL is installed",
                    crl.issuerDn, files.crl, isoTime(crl.nextUpdate));
    }
  }
  const ASN1_TIME* notAfter = X509_get0_notAfter(material.leaf.get());
  int days = 0;
  int seconds = 0;
  if (ASN1_TIME_diff(&days, &seconds, nullptr, notAfter) == 1 && days < 30) {
    spdlog::warn("the node certificate {} expires in {} days", files.certificate, days);
  }
}

}  // namespace

int runServe(const Args& argv) {
  // Signals are taken synchronously by the main thread; blocked before any
  // thread starts so that no other thread can receive (and die of) them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto args = parseArgs(argv, {});
  if (!args) return usageError(args.error().external);
  if (!args->positional.empty()) return usageError("serve takes no arguments");
  auto source = loadConfigFor(*args);
  if (!source) return runtimeError(source.error().external);
  auto config = serveConfig(*source);
  if (!config) return runtimeError(config.error().external);

  auto loaded = auth::loadTlsMaterial(config->tls);
  if (!loaded) return runtimeError(loaded.error().external);
  auto material = std::make_shared<const auth::TlsMaterial>(std::move(*loaded));
  warnAboutDates(*material, config->tls);

  {
    auto conn = db::connect(config->dbUri);
    if (!conn) return runtimeError(conn.error().internal);
    auto schema = db::checkSchema(**conn, db::embeddedMigrations());
    if (!schema) return runtimeError(schema.error().internal);
  }

  auto signingKey = audit::SigningKey::fromPemFile(config->auditSigningKey);
  if (!signingKey) return runtimeError(signingKey.error().external);

  auth::OrganizationRegistry registry(std::make_unique<auth::RegistryRepository>(config->dbUri),
                                      std::chrono::milliseconds(config->registryPollMillis));
  if (auto started = registry.start(); !started) {
    return runtimeError("cannot load the organization registry: " + started.error().internal);
  }

  auto context = auth::makeServerContext(*material, auth::ServerTlsOptions{config->verifyDepth, "hie-node"});
  if (!context) return runtimeError(context.error().internal);
  Poco::Net::SSLManager::instance().initializeServer(new NoPassphrase(true),
                                                     new Poco::Net::RejectCertificateHandler(true), *context);
  // The outbound client uses its own contexts; Poco's defaults must still never prompt.
  Poco::Net::SSLManager::instance().initializeClient(new NoPassphrase(false), new Poco::Net::RejectCertificateHandler(false),
                                                     nullptr);

  Counters counters;
  audit::AuditWriter auditWriter(std::make_unique<audit::AuditStore>(config->dbUri), *signingKey, config->nodeId,
                                 audit::newChainId(config->nodeId), config->audit, counters);
  if (auto started = auditWriter.start(); !started) {
    return runtimeError("cannot start the audit trail: " + started.error().internal);
  }
  db::ConnectionPool pool(config->dbUri, config->dbPoolSize);
  exchange::PgRecordStore store(pool);
  exchange::RecordApi records(store, config->records);
  exchange::NodeDescription node{config->nodeId, config->organization, HIE_VERSION,
                                 {config->records.resourceTypes.begin(), config->records.resourceTypes.end()}};
  exchange::CapabilityStatementHandler metadata(node);
  exchange::AuditApi auditApi(pool, config->records.baseUrl);
  exchange::PeerClient peerClient(material, registry, config->client, counters);
  exchange::ExchangeApi exchangeApi(peerClient, auditWriter, config->exchange);
  exchange::RequestGate gate(registry, metadata, records, auditApi, &exchangeApi, counters);
  exchange::HttpsServer server(*context, config->listener, gate, auditWriter, counters);

  auto port = server.start();
  if (!port) return runtimeError(port.error().internal);
  spdlog::info("listening on https://{}:{} node={} organization={} crl={} break_glass={} audit_chain={}",
               config->listener.host, *port, config->nodeId, config->organization,
               config->tls.crl.empty() ? "none" : config->tls.crl, config->records.policy.breakGlass,
               auditWriter.chain());

  while (true) {
    int sig = 0;  // a second signal during shutdown stays pending: it cannot cut the audit flush
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      spdlog::warn("SIGHUP received: reloading TLS material is not supported yet; restart to pick up new files");
      continue;
    }
    spdlog::info("signal {} received, shutting down", sig);
    break;
  }
  server.stop(5);
  auditWriter.stop();  // commits what is queued and signs the final checkpoint
  registry.stop();
  Poco::Net::SSLManager::instance().shutdown();
  spdlog::info("stopped");
  return 0;
}

}  // namespace hie::app

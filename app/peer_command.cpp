// peer add|list|remove, and fetch: one outbound query run by an operator.
#include <iostream>
#include <optional>

#include <Poco/Net/RejectCertificateHandler.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/URI.h>

#include "app/command_support.h"
#include "app/commands.h"
#include "audit/pg_audit_log_store.h"
#include "audit/audit_writer.h"
#include "audit/witness_policy.h"
#include "auth/policy/policy.h"
#include "auth/registry/organization.h"
#include "auth/registry/organization_registry.h"
#include "auth/registry/registry_repository.h"
#include "auth/tls/client_standing.h"
#include "auth/tls/ocsp_checker.h"
#include "auth/tls/server_tls_context.h"
#include "auth/tls/tls_material.h"
#include "auth/tls/tls_material_store.h"
#include "db/connection_pool.h"
#include "common/purpose_of_use.h"
#include "exchange/fhir/fhir_request.h"
#include "exchange/http/request_id.h"
#include "exchange/peers/peer_client.h"
#include "exchange/peers/peer_url.h"
#include "exchange/peers/pg_udap_registrations.h"
#include "exchange/peers/tls_udap_signer.h"
#include "exchange/peers/udap_peer_fanout.h"

namespace hie::app {

namespace {

// A verifier key given on the command line, checked as `what` of `type`; nullopt when not given.
Result<std::optional<std::string>> peerKey(const ParsedArgs& args, const char* option, unsigned char type,
                                           const std::string& what) {
  if (!args.has(option)) return std::optional<std::string>();
  auto key = audit::parseVerifierKeyOfType(args.value(option), type, "--" + std::string(option) + " (" + what + ")");
  if (!key) return tl::make_unexpected(key.error());
  return std::optional<std::string>(key->text());
}

}  // namespace

int runPeer(const Args& argv) {
  const char* usage =
      "usage: hie-node peer add --org ID --url https://host:port [--log-key VKEY] [--witness-key VKEY] [--auth mtls|udap] | "
      "peer list | "
      "peer remove ID";
  if (argv.empty()) return usageError(usage);
  const std::string verb = argv.front();
  OptionSpec spec;
  if (verb == "add") spec = OptionSpec{{"org", "url", "log-key", "witness-key", "auth"}, {}, {}};
  else if (verb != "list" && verb != "remove") return usageError("unknown peer subcommand '" + verb + "'\n" + usage);
  auto args = parseArgs(Args(argv.begin() + 1, argv.end()), spec);
  if (!args) return usageError(args.error().external);
  if (verb == "add") {
    if (!args->has("org") || !args->has("url") || !args->positional.empty()) return usageError(usage);
    if (!auth::isValidOrganizationIdentifier(args->value("org"))) {
      return usageError("'" + args->value("org") + "' is not an organization identifier (urn:oid:...)");
    }
    auto url = exchange::parsePeerUrl(args->value("url"));
    if (!url) return usageError(url.error().external);
    // Checked before anything is stored: a bad key leaves the directory as it was.
    auto logKey = peerKey(*args, "log-key", audit::note::kEd25519, "the peer's audit log key");
    if (!logKey) return usageError(logKey.error().external);
    auto witnessKey = peerKey(*args, "witness-key", audit::note::kCosignatureV1, "the peer's witness key");
    if (!witnessKey) return usageError(witnessKey.error().external);
    std::optional<std::string> peerAuth;
    if (args->has("auth")) {
      peerAuth = args->value("auth");
      if (*peerAuth != "mtls" && *peerAuth != "udap") return usageError("--auth must be mtls or udap");
    }
    auto uri = runtimeDatabaseUri(*args);
    if (!uri) return runtimeError(uri.error().external);
    auth::RegistryRepository repo(*uri);
    auto changed = repo.setPeer(args->value("org"), url->text(), *logKey, *witnessKey, peerAuth);
    if (!changed) return commandError(changed.error());
    std::cout << "peer " << args->value("org") << " at " << url->text()
              << (peerAuth ? " (auth " + *peerAuth + ")" : "") << (*changed ? "" : " (unchanged)") << "\n";
    return 0;
  }
  if (verb == "remove" && args->positional.size() != 1) return usageError("usage: hie-node peer remove ID");
  if (verb == "list" && !args->positional.empty()) return usageError("peer list takes no arguments");
  auto uri = runtimeDatabaseUri(*args);
  if (!uri) return runtimeError(uri.error().external);
  auth::RegistryRepository repo(*uri);
  if (verb == "remove") {
    const std::string& id = args->positional.front();
    if (!auth::isValidOrganizationIdentifier(id)) return usageError("'" + id + "' is not an organization identifier");
    auto removed = repo.removePeer(id);
    if (!removed) return commandError(removed.error());
    std::cout << "removed the peer entry of " << id << "\n";
    return 0;
  }
  auto snap = repo.loadAll();
  if (!snap) return commandError(snap.error());
  if (snap->peers.empty()) std::cout << "no peers\n";
  for (const auto& p : snap->peers) {
    const auth::Organization* org = snap->organization(p.organization);
    std::cout << p.organization << "  " << p.baseUrl << "  "
              << (org != nullptr ? auth::statusName(org->status) : "unknown") << "  auth " << p.auth << "\n";
    if (!p.logKey.empty()) std::cout << "  log key:     " << p.logKey << "\n";
    if (!p.witnessKey.empty()) std::cout << "  witness key: " << p.witnessKey << "\n";
  }
  return 0;
}

int runFetch(const Args& argv) {
  const char* usage =
      "usage: hie-node fetch --peer ID --patient-identifier SYSTEM|VALUE [--purpose CODE] [--type TYPE]";
  auto args = parseArgs(argv, OptionSpec{{"peer", "patient-identifier", "purpose", "type"}, {}, {}});
  if (!args) return usageError(args.error().external);
  if (!args->has("peer") || !args->has("patient-identifier") || !args->positional.empty()) return usageError(usage);
  const std::string peerId = args->value("peer");
  const std::string identifier = args->value("patient-identifier");
  const std::string purpose = args->has("purpose") ? args->value("purpose") : "TREAT";
  const std::string type = args->has("type") ? args->value("type") : "Patient";
  if (!exchange::parsePatientIdentifier("--patient-identifier", identifier)) {
    return usageError("--patient-identifier must be SYSTEM|VALUE");
  }
  if (!purpose::isKnown(purpose)) return usageError("'" + purpose + "' is not a known PurposeOfUse code");
  if (!auth::isValidOrganizationIdentifier(peerId)) return usageError("'" + peerId + "' is not an organization identifier");
  auto source = loadConfigFor(*args);
  if (!source) return runtimeError(source.error().external);
  auto config = serveConfig(*source);
  if (!config) return runtimeError(config.error().external);
  if (config->exchange.resourceTypes.count(type) == 0) return usageError("unsupported resource type '" + type + "'");
  auto opened = auth::TlsMaterialStore::open(config->tls);
  if (!opened) return runtimeError(opened.error().external);
  std::unique_ptr<auth::TlsMaterialStore> tls = std::move(*opened);
  std::shared_ptr<const auth::TlsMaterial> material = tls->current()->material;
  auto key = audit::SigningKey::fromPemFile(config->auditSigningKey);
  if (!key) return runtimeError(key.error().external);
  auth::RegistryRepository repo(config->dbUri);
  auto snap = repo.loadAll();
  if (!snap) return commandError(snap.error());
  const auth::PeerEntry* peer = nullptr;
  for (const auto& p : snap->peers) {
    if (p.organization == peerId) peer = &p;
  }
  if (peer == nullptr) return runtimeError("no peer entry for " + peerId + " (add one with `hie-node peer add`)");
  const auth::PeerEntry target = *peer;
  auth::FixedOrganizationDirectory directory(std::move(*snap));

  Poco::Net::SSLManager::instance().initializeClient(nullptr, new Poco::Net::RejectCertificateHandler(false), nullptr);
  Counters counters;
  audit::AuditWriter writer(std::make_unique<audit::PgAuditLogStore>(config->dbUri), *key, config->nodeId,
                                 config->auditOrigin, config->audit, counters);
  if (auto started = writer.start(); !started) return runtimeError("cannot start the audit trail: " + started.error().internal);
  exchange::ClientOptions options = config->client;
  options.signatures = config->signatures;
  exchange::PeerClient client(material, directory, options, counters);
  // An auth=udap peer: discovery, registration and token as in serve (docs/udap.md). The chain of
  // the peer's signed metadata is verified as a client's chain would be (the server context only
  // lends its verification parameters; nothing listens).
  auto verifyContext = auth::makeServerContext(
      *material, auth::ServerTlsOptions{config->verifyDepth, "hie-node", config->sessionLifetimeSeconds});
  if (!verifyContext) return runtimeError(verifyContext.error().internal);
  tls->attachTo((*verifyContext)->sslContext());
  // OCSP as serve asks it (tls.ocsp): the metadata's leaf is checked as a client certificate would be.
  auth::OcspChecker ocsp(config->ocspMode, config->ocspTimeout, counters);
  ocsp.attachTo((*verifyContext)->sslContext());
  auth::ClientRecheck chains(*tls, &ocsp);
  chains.attachTo((*verifyContext)->sslContext());
  db::ConnectionPool pool(config->dbUri, 1);
  exchange::PgUdapRegistrations udapRegistrations(pool);
  exchange::TlsUdapSigner udapSigner([&tls] { return tls->current()->material; });
  exchange::UdapPeerFanout udapClient(client, client, udapRegistrations, chains, directory, udapSigner,
                                      udapClientOptions(*config));
  std::string encoded;
  Poco::URI::encode(identifier, "&=+#?/|%", encoded);
  const std::string path = type == "Patient" ? "/fhir/Patient?identifier=" + encoded
                                             : "/fhir/" + type + "?patient.identifier=" + encoded;
  const std::string requestId = exchange::newRequestId();
  const auto started = std::chrono::steady_clock::now();
  auto response = udapClient.get(target, path, {{"X-Purpose-Of-Use", purpose}, {"X-Request-Id", requestId}},
                             started + config->exchange.deadline);
  audit::AuditEvent e;
  e.eventType = "rest";
  e.action = "peer-call";
  e.peerOrganization = target.organization;
  e.organization = config->organization;
  e.method = "GET";
  e.path = path.substr(0, path.find('?'));
  e.resourceType = type;
  e.patientQuery = identifier;
  e.purpose = purpose;
  e.requestId = requestId;
  e.latencyMicros =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
  exchange::recordSignatures(response ? response->signatures : response.error().signatures, e);
  exchange::recordAuth(response ? response->auth : response.error().auth, e);
  // The same outcome rule as the /exchange fan-out (exchange::peerCallOutcome): a 403 is denied.
  if (!response) {
    e.outcomeReason = response.error().reason;
    e.outcome = exchange::peerCallOutcome(e.outcomeReason);
  } else {
    e.httpStatus = response->status;
    e.outcome = "success";
    if (response->status != 200) {
      e.outcomeReason = "http_" + std::to_string(response->status);
      e.outcome = exchange::peerCallOutcome(e.outcomeReason);
    }
  }
  auto recorded = writer.record(e);
  writer.stop();
  if (!recorded) return runtimeError("the call could not be audited; its answer is withheld: " + recorded.error().internal);
  if (!response) {
    return runtimeError("fetch from " + target.organization + " failed (" + response.error().reason +
                        "): " + response.error().detail);
  }
  std::cout << response->body << "\n";
  if (response->status != 200) {
    return runtimeError("fetch from " + target.organization + " answered HTTP " + std::to_string(response->status));
  }
  return 0;
}

}  // namespace hie::app

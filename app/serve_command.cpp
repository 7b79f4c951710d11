#include <atomic>
#include <csignal>
#include <set>
#include <limits>
#include <ctime>
#include <pthread.h>
#include <unistd.h>

#include <Poco/Net/PrivateKeyPassphraseHandler.h>
#include <Poco/Net/RejectCertificateHandler.h>
#include <Poco/Net/SSLManager.h>
#include <spdlog/spdlog.h>

#include "app/command_support.h"
#include "app/commands.h"
#include "audit/pg_audit_log_store.h"
#include "audit/audit_writer.h"
#include "audit/pg_witness_store.h"
#include "audit/pg_witnessed_log.h"
#include "audit/postgres_audit_reader.h"
#include "audit/signing_key.h"
#include "auth/registry/organization_registry.h"
#include "auth/registry/registry_repository.h"
#include "auth/signatures/tls_signing_key.h"
#include "auth/tls/client_standing.h"
#include "auth/tls/expiry.h"
#include "auth/tls/server_tls_context.h"
#include "auth/tls/tls_material.h"
#include "auth/tls/tls_material_store.h"
#include "common/counters.h"
#include "common/time.h"
#include "db/connection.h"
#include "db/connection_pool.h"
#include "db/migrations.h"
#include "exchange/handlers/audit_api.h"
#include "exchange/handlers/capability_statement.h"
#include "exchange/handlers/record_api.h"
#include "exchange/http/admin_server.h"
#include "exchange/http/https_server.h"
#include "exchange/http/pg_certificate_archive.h"
#include "exchange/http/pg_nonce_registry.h"
#include "exchange/peers/pg_udap_registrations.h"
#include "exchange/peers/tls_udap_signer.h"
#include "exchange/peers/udap_peer_fanout.h"
#include "exchange/http/reply_signer.h"
#include "exchange/http/request_signature_check.h"
#include "exchange/http/request_gate.h"
#include "exchange/http/pg_udap_store.h"
#include "exchange/handlers/udap_api.h"
#include "auth/identity/certificate_identity.h"
#include "auth/udap/jws_crypto.h"
#include "exchange/atna/atna_feed.h"
#include "exchange/atna/pg_atna_cursors.h"
#include "exchange/atna/syslog_tls_transport.h"
#include "exchange/peers/peer_client.h"
#include "exchange/peers/witness_submitter.h"
#include "exchange/records/postgres_record_store.h"

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

// Logs each expiry threshold crossing once (node certificate, trust anchors, CRL nextUpdate).
class ExpiryWatch {
 public:
  explicit ExpiryWatch(std::vector<int> days) : days_(std::move(days)) {}
  void check(const auth::TlsMaterial& material, const auth::TlsFiles& files) {
    for (const auto& w : auth::expiryWarnings(material, std::time(nullptr), days_)) {
      if (!logged_.insert(w.key()).second) continue;
      if (w.thresholdDays == 0) {
        spdlog::error("{} expired at {}{}", w.what, utc::fromEpoch(w.at),
                      w.what.compare(0, 3, "CRL") == 0 ? "; every client certificate it covers is refused until a "
                                                         "current CRL is installed in " + files.crl
                                                       : "");
      } else {
        spdlog::warn("{} expires within {} days, at {}", w.what, w.thresholdDays, utc::fromEpoch(w.at));
      }
    }
  }

 private:
  std::vector<int> days_;
  std::set<std::string> logged_;
};

std::string gauge(const std::string& name, const std::string& help, const std::string& series) {
  return "# HELP " + name + " " + help + "\n# TYPE " + name + " gauge\n" + series;
}

exchange::AdminSources adminSources(const auth::OrganizationRegistry& registry, const audit::AuditWriter& writer,
                                    const auth::TlsMaterialStore& tls, const auth::TlsFiles& files,
                                    const std::atomic<bool>& draining, const exchange::AtnaFeed* atna) {
  exchange::AdminSources sources;
  sources.readiness = [&registry, &writer, &tls, files, &draining] {
    const auto material = tls.current()->material;
    const std::int64_t nodeNotAfter = auth::certificateNotAfter(material->leaf.get());
    const std::vector<auth::CrlInfo>& crls = material->crlInfo;
    exchange::Readiness r;
    const std::int64_t now = std::time(nullptr);
    if (draining) r.problems.push_back("shutting down: finishing requests in flight");
    if (registry.secondsSinceLastSuccess() > 5) r.problems.push_back("database: the registry has not refreshed for over 5 s");
    if (!writer.healthy()) r.problems.push_back("audit: the last commit failed; requests are refused (503)");
    if (writer.queueDepth() > 10000) r.problems.push_back("audit: the writer is not keeping up");
    if (nodeNotAfter <= now) r.problems.push_back("tls: the node certificate has expired");
    for (const auto& crl : crls) {
      if (crl.nextUpdate != 0 && crl.nextUpdate < now) {
        r.problems.push_back("tls: the CRL of " + crl.issuerDn + " in " + files.crl + " is past its nextUpdate");
      }
    }
    r.ready = r.problems.empty();
    return r;
  };
  sources.gauges = [&registry, &writer, &tls, atna] {
    const auto material = tls.current()->material;
    const std::int64_t nodeNotAfter = auth::certificateNotAfter(material->leaf.get());
    std::vector<std::pair<std::string, std::int64_t>> anchors;
    for (int i = 0; i < sk_X509_num(material->anchors.get()); ++i) {
      const X509* a = sk_X509_value(material->anchors.get(), i);
      anchors.emplace_back(auth::subjectOneLine(a), auth::certificateNotAfter(a));
    }
    const std::vector<auth::CrlInfo>& crls = material->crlInfo;
    std::string out;
    out += gauge("hie_audit_queue_depth", "Audit events waiting for the writer.",
                 "hie_audit_queue_depth " + std::to_string(writer.queueDepth()) + "\n");
    out += gauge("hie_audit_last_commit_milliseconds", "Duration of the last audit group commit.",
                 "hie_audit_last_commit_milliseconds " + std::to_string(writer.lastCommitMillis()) + "\n");
    out += gauge("hie_registry_age_seconds", "Seconds since the registry was last refreshed from the database.",
                 "hie_registry_age_seconds " + std::to_string(registry.secondsSinceLastSuccess()) + "\n");
    std::string certs = "hie_certificate_not_after_timestamp_seconds{kind=\"node\"} " + std::to_string(nodeNotAfter) + "\n";
    for (const auto& [subject, notAfter] : anchors) {
      certs += "hie_certificate_not_after_timestamp_seconds{kind=\"anchor\",subject=\"" + exchange::prometheusLabelValue(subject) + "\"} " +
               std::to_string(notAfter) + "\n";
    }
    out += gauge("hie_certificate_not_after_timestamp_seconds", "Expiry of the node certificate and trust anchors.", certs);
    if (!crls.empty()) {
      std::string series;
      for (const auto& crl : crls) {
        series += "hie_crl_next_update_timestamp_seconds{issuer=\"" + exchange::prometheusLabelValue(crl.issuerDn) + "\"} " +
                  std::to_string(crl.nextUpdate) + "\n";
      }
      out += gauge("hie_crl_next_update_timestamp_seconds", "nextUpdate of each configured CRL.", series);
    }
    if (atna != nullptr) {
      // -1 until the feed's first successful measurement (just started, or the database unreachable since).
      out += gauge("hie_atna_backlog_entries",
                   "Committed audit entries not yet delivered to the ATNA audit record repository.",
                   "hie_atna_backlog_entries " + std::to_string(atna->backlog()) + "\n");
      out += gauge("hie_atna_backlog_measured_timestamp_seconds",
                   "When hie_atna_backlog_entries was last measured (0: not yet).",
                   "hie_atna_backlog_measured_timestamp_seconds " + std::to_string(atna->backlogMeasuredAt()) + "\n");
    }
    return out;
  };
  return sources;
}

}  // namespace

// With udap.enabled: the TLS certificate must carry the SAN URI fhirBase (the iss of signed_metadata,
// discovery.md 2.3) and a key UDAP signs with (RSA >= 2048 bits: RS256; EC P-256: ES256; P-384: ES384).
std::optional<std::string> udapTlsProblem(const auth::TlsMaterial& material, const std::string& fhirBase,
                                          const std::string& certificateFile, const std::string& keyFile) {
  auto identity = auth::extractIdentity(material.leaf.get());
  bool hasUri = false;
  if (identity) {
    for (const auto& uri : identity->sanUris) hasUri = hasUri || uri == fhirBase;
  }
  if (!hasUri) {
    return "udap.enabled is true but the TLS certificate " + certificateFile + " has no SAN URI " + fhirBase +
           " (server.baseUrl + \"/fhir\", the iss of signed_metadata): issue one with that URI (hie-node pki issue --uri)";
  }
  auto algorithm = auth::udap::algorithmForKey(material.key.get());
  if (!algorithm) {
    return "udap.enabled is true but the TLS key " + keyFile +
           " cannot sign UDAP JWTs: it must be RSA of at least 2048 bits (RS256), EC P-256 (ES256) or EC P-384 (ES384)";
  }
  if (*algorithm != auth::udap::JwsAlgorithm::kRS256) {
    spdlog::warn("udap: the TLS key {} is not RSA: signed_metadata is {}, while the UDAP IG (discovery.md 2.3) says "
                 "RS256 (docs/udap.md)", keyFile, auth::udap::jwsAlgorithmName(*algorithm));
  }
  return std::nullopt;
}

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

  auto opened = auth::TlsMaterialStore::open(config->tls);
  if (!opened) return runtimeError(opened.error().external);
  std::unique_ptr<auth::TlsMaterialStore> tls = std::move(*opened);
  std::shared_ptr<const auth::TlsMaterial> material = tls->current()->material;
  if (config->udap.enabled) {
    if (auto problem = udapTlsProblem(*material, config->baseUrl + "/fhir", config->tls.certificate, config->tls.privateKey)) {
      return runtimeError(*problem);
    }
    // A reload must pass the same checks, or it is refused and the current material stays (counted
    // in hie_tls_reload_failures_total and logged as any refused reload).
    tls->requireOnReload([fhirBase = config->baseUrl + "/fhir", certificate = config->tls.certificate,
                          privateKey = config->tls.privateKey](const auth::TlsMaterial& candidate) {
      return udapTlsProblem(candidate, fhirBase, certificate, privateKey);
    });
  }
  ExpiryWatch expiry(config->expiryWarningDays);
  expiry.check(*material, config->tls);

  {
    auto conn = db::connect(config->dbUri);
    if (!conn) return runtimeError(conn.error().internal);
    auto schema = db::checkSchema(**conn, db::embeddedMigrations());
    if (!schema) return runtimeError(schema.error().internal);
  }

  auto signingKey = audit::SigningKey::fromPemFile(config->auditSigningKey);
  if (!signingKey) return runtimeError(signingKey.error().external);
  auto witnessKey = loadWitnessKey(*config, *signingKey);
  if (!witnessKey) return runtimeError(witnessKey.error().external);

  auth::OrganizationRegistry registry(std::make_unique<auth::RegistryRepository>(config->dbUri),
                                      std::chrono::milliseconds(config->registryPollMillis));
  if (auto started = registry.start(); !started) {
    return runtimeError("cannot load the organization registry: " + started.error().internal);
  }

  auto context = auth::makeServerContext(
      *material, auth::ServerTlsOptions{config->verifyDepth, "hie-node", config->sessionLifetimeSeconds});
  if (!context) return runtimeError(context.error().internal);
  tls->attachTo((*context)->sslContext());  // every handshake takes the current material
  Poco::Net::SSLManager::instance().initializeServer(new NoPassphrase(true),
                                                     new Poco::Net::RejectCertificateHandler(true), *context);
  // The outbound client uses its own contexts; Poco's defaults must still never prompt.
  Poco::Net::SSLManager::instance().initializeClient(new NoPassphrase(false), new Poco::Net::RejectCertificateHandler(false),
                                                     nullptr);

  Counters counters;
  auth::OcspChecker ocsp(config->ocspMode, config->ocspTimeout, counters);
  ocsp.attachTo((*context)->sslContext());
  auth::ClientRecheck recheck(*tls, &ocsp);  // before each request: does the client's certificate still stand?
  recheck.attachTo((*context)->sslContext());
  audit::AuditWriter auditWriter(std::make_unique<audit::PgAuditLogStore>(config->dbUri), *signingKey, config->nodeId,
                                 config->auditOrigin, config->audit, counters);
  if (auto started = auditWriter.start(); !started) {
    return runtimeError("cannot start the audit trail: " + started.error().internal);
  }
  db::ConnectionPool pool(config->dbUri, config->dbPoolSize);
  exchange::PgRecordStore store(pool);
  exchange::RecordApi records(store, config->records);
  exchange::RecordWriteApi writes(store, records.settings());
  exchange::NodeDescription node{config->nodeId, config->organization, HIE_VERSION,
                                 {config->records.resourceTypes.begin(), config->records.resourceTypes.end()}};
  exchange::CapabilityStatementHandler metadata(node);
  audit::PgAuditReader auditReader(pool);
  exchange::AuditApi auditApi(auditReader);
  exchange::ClientOptions clientOptions = config->client;
  clientOptions.signatures = config->signatures;  // signs requests, checks answers
  exchange::PeerClient peerClient(material, registry, clientOptions, counters);
  // Calls to auth=udap peers get a UDAP access token first (docs/udap.md, "This node as a client");
  // auth=mtls peers pass straight through to peerClient.
  exchange::PgUdapRegistrations udapRegistrations(pool);
  exchange::TlsUdapSigner udapSigner([&tls] { return tls->current()->material; });
  exchange::UdapPeerFanout udapClient(peerClient, peerClient, udapRegistrations, recheck, registry, udapSigner,
                                      udapClientOptions(*config));
  exchange::ExchangeApi exchangeApi(udapClient, config->exchange, counters);
  if (config->udap.contact.empty()) {
    for (const auto& p : registry.snapshot()->peers) {
      if (p.auth == "udap") {
        spdlog::warn("the peer {} is auth=udap but udap.contact is not set: calls to it fail (udap_not_configured)",
                     p.organization);
      }
    }
  }
  // A witness for its peers' logs when it has a witness key; /witness/ is 404 otherwise.
  std::unique_ptr<audit::PgWitnessStore> witnessStore;
  std::unique_ptr<exchange::WitnessApi> witnessApi;
  if (*witnessKey) {
    witnessStore = std::make_unique<audit::PgWitnessStore>(pool);
    witnessApi = std::make_unique<exchange::WitnessApi>(*witnessStore, **witnessKey, config->witnessName, counters);
  }
  // Signed requests and answers: the gate checks requests' signatures; answers are signed with the
  // key of the TLS certificate; the node's own chain is kept with the chains that signed requests.
  exchange::PgNonceRegistry nonces(pool);
  exchange::PgCertificateArchive certificates(pool);
  exchange::RequestSignatureCheck signatureCheck(config->signatures, nonces, certificates, counters);
  // signatures.sign = false: no key is needed, so a TLS key of a type that cannot sign messages does not
  // stop the node.
  std::shared_ptr<const auth::MessageSigningKey> messageKey;
  if (config->signatures.sign) {
    auto key = auth::tlsSigningKey(*material);
    if (!key) {
      return runtimeError("signatures.sign is true but the TLS key cannot sign messages (EC P-256 or P-384, RSA or "
                          "Ed25519 can; or set signatures.sign = false): " + key.error().internal);
    }
    if (auto kept = certificates.keep(key->keyId(), key->certificateChainPem()); !kept) {
      return runtimeError("cannot store the node's certificate chain: " + kept.error().internal);
    }
    messageKey = std::make_shared<const auth::MessageSigningKey>(std::move(*key));
  }
  exchange::ReplySigner replySigner(messageKey);
  // UDAP B2B (udap.enabled): discovery, registration and tokens, before identity mapping in the gate.
  exchange::PgUdapClientStore udapClients(pool);
  exchange::PgJtiRegistry udapJtis(pool);
  std::unique_ptr<exchange::UdapApi> udapApi;
  if (config->udap.enabled) {
    exchange::UdapSettings udapSettings;
    udapSettings.fhirBaseUrl = config->baseUrl + "/fhir";
    udapSettings.tokenEndpoint = config->baseUrl + "/oauth/token";
    udapSettings.registrationEndpoint = config->baseUrl + "/oauth/register";
    udapSettings.tokenLifetime = config->udap.tokenLifetime;
    udapSettings.metadataLifetime = config->udap.metadataLifetime;
    udapSettings.scopes = config->udap.scopes;
    udapSettings.community = config->udap.community;
    const auth::ChainVerifier& chains = recheck;  // the same trust bundle, CRLs and OCSP as the handshake
    udapApi = std::make_unique<exchange::UdapApi>(udapSettings, chains, registry, *tls, udapClients, udapJtis, counters);
    spdlog::info("udap: discovery at {}/.well-known/udap, registration {}, token {}", udapSettings.fhirBaseUrl,
                 udapSettings.registrationEndpoint, udapSettings.tokenEndpoint);
  }
  exchange::RequestGate gate(registry, metadata, records, auditApi, &exchangeApi, counters, config->baseUrl,
                             witnessApi.get(), &signatureCheck, &writes, udapApi.get());
  // UDAP access tokens at the FHIR API (docs/api.md, "Bearer tokens"): only with udap.enabled, which
  // requires server.baseUrl (the tokens' iss and aud are its /fhir).
  std::unique_ptr<exchange::BearerCheck> bearerCheck;
  if (config->udap.enabled) {
    bearerCheck = std::make_unique<exchange::BearerCheck>(
        exchange::nodeAccessTokenVerifier(*tls, config->baseUrl + "/fhir"), counters);
    bearerCheck->requireToken(config->udap.requireToken);
    bearerCheck->useScopes(config->udap.scopes);
    // A token of a client registered since the registry's last poll: one refresh before refusing it.
    bearerCheck->useRefresh([&registry] {
      (void)registry.refresh();
      return registry.snapshot();
    });
    gate.useBearerCheck(bearerCheck.get());
  }
  audit::PgWitnessedLog witnessedLog(config->dbUri);
  exchange::WitnessSubmitter submitter(witnessedLog, registry, peerClient, auditWriter, counters,
                                       exchange::WitnessSubmitterOptions{logOrigin(*config), config->organization,
                                                                         config->witnessInterval, config->witnessTimeout});
  // The ATNA feed (atna.host set): committed audit entries to the audit record repository (ITI-20).
  std::unique_ptr<exchange::PgAtnaCursors> atnaCursors;
  std::unique_ptr<exchange::SyslogTlsTransport> atnaTransport;
  std::unique_ptr<exchange::AtnaFeed> atnaFeed;
  if (!config->atna.host.empty()) {
    auto transport = exchange::SyslogTlsTransport::create(
        exchange::SyslogTlsOptions{config->atna.host, static_cast<std::uint16_t>(config->atna.port),
                                   config->atna.serverName, config->atna.trustBundle, config->atna.timeout},
        [&tls] { return tls->current()->material; });
    if (!transport) return runtimeError(transport.error().external);
    atnaTransport = std::move(*transport);
    atnaCursors = std::make_unique<exchange::PgAtnaCursors>(config->dbUri);
    exchange::AtnaFeedOptions options;
    options.repository = exchange::atnaRepositoryKey(config->atna.host, config->atna.port);
    audit::parseAtnaFormat(config->atna.format, options.format);
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) == 0 && host[0] != '\0') options.syslogOrigin.hostname = host;
    options.syslogOrigin.procId = std::to_string(getpid());
    options.syslogOrigin.enterpriseNumber = std::to_string(config->atna.enterpriseNumber);
    options.batchSize = static_cast<std::size_t>(config->atna.batchSize);
    options.maxMessageBytes = static_cast<std::size_t>(config->atna.maxMessageBytes);
    options.retryMax = config->atna.retryMax;
    atnaFeed = std::make_unique<exchange::AtnaFeed>(*atnaCursors, *atnaTransport, counters, options);
  }
  exchange::HttpsServer server(*context, config->listener, recheck, gate, auditWriter, counters,
                               config->signatures.sign ? &replySigner : nullptr);

  std::atomic<bool> draining{false};
  exchange::AdminServer admin(config->adminHost, config->adminPort, counters,
                              adminSources(registry, auditWriter, *tls, config->tls, draining, atnaFeed.get()));
  auto adminPort = admin.start();
  if (!adminPort) return runtimeError(adminPort.error().internal);
  spdlog::info("admin listening on http://{}:{} (/healthz /readyz /metrics)", config->adminHost, *adminPort);
  if (config->adminHost != "127.0.0.1" && config->adminHost != "::1" && config->adminHost != "localhost") {
    spdlog::warn("admin.host {} is not loopback: the admin listener is plain HTTP without authentication",
                 config->adminHost);
  }

  auto port = server.start();
  if (!port) return runtimeError(port.error().internal);
  submitter.start();  // asks the peers with a witness key to cosign this node's checkpoints
  if (atnaFeed) {
    atnaFeed->start();
    spdlog::info("atna: feeding the audit log to {}:{} ({}, server name {})", config->atna.host, config->atna.port,
                 config->atna.format, config->atna.serverName);
  }
  if (witnessApi) spdlog::info("witness for the log keys of the peer directory, cosigning as {}", config->witnessName);
  spdlog::info(
      "listening on https://{}:{} node={} organization={} crl={} break_glass={} audit_log={} signatures.requests={} "
      "signatures.sign={}",
      config->listener.host, *port, config->nodeId, config->organization,
      config->tls.crl.empty() ? "none" : config->tls.crl, config->records.policy.breakGlass, auditWriter.origin(),
      auth::signaturePolicyName(config->signatures.requests), config->signatures.sign);

  // Wait for signals; every two seconds look whether a TLS file changed.
  long long polls = 0;
  while (true) {
    const timespec poll{2, 0};
    const int sig = sigtimedwait(&signals, nullptr, &poll);  // a second signal during shutdown stays pending
    const bool reloadAsked = sig == SIGHUP;
    if (sig == SIGTERM || sig == SIGINT) {
      spdlog::info("signal {} received, shutting down", sig);
      break;
    }
    if (++polls % 1800 == 0) expiry.check(*tls->current()->material, config->tls);  // about hourly
    if (!reloadAsked && !tls->filesChanged()) continue;
    auto reloaded = tls->reload();
    if (!reloaded) {
      counters.tlsReloadFailures.inc();
      spdlog::error("TLS reload refused, the current certificate, key, trust bundle and CRLs stay in use: {}",
                    reloaded.error().internal);
      continue;
    }
    counters.tlsReloads.inc();
    // A resumed session skips certificate checks: forget every session made under the old material.
    SSL_CTX_flush_sessions((*context)->sslContext(), std::numeric_limits<long>::max());
    counters.tlsSessionCacheFlushes.inc();
    material = tls->current()->material;
    peerClient.useMaterial(material);
    if (!config->signatures.sign) {
      // nothing signs
    } else if (auto key = auth::tlsSigningKey(*material)) {
      if (auto kept = certificates.keep(key->keyId(), key->certificateChainPem()); kept) {
        // Connections made from now on present the new certificate, and their answers are signed with its key.
        replySigner.addKey(std::make_shared<const auth::MessageSigningKey>(std::move(*key)));
      } else {
        // Fail closed for the evidence: an answer whose signer's chain is not kept could not be checked later.
        spdlog::error("answers on new connections go unsigned: cannot store the node's new certificate chain: {}",
                      kept.error().internal);
      }
    } else {
      spdlog::error("answers on new connections go unsigned: the new TLS key cannot sign messages: {}",
                    key.error().internal);
    }
    expiry.check(*material, config->tls);
    spdlog::info("TLS material reloaded ({}): new handshakes use it", reloadAsked ? "SIGHUP" : "files changed");
  }
  draining = true;  // /readyz answers 503 from here on
  // First, so that a connect or delivery to the repository under way is cut before the waits below;
  // what it has not delivered stays behind its cursor for the next start.
  if (atnaFeed) atnaFeed->stop();
  server.stop(5);
  peerClient.stop();  // outbound calls still in flight are cut; its workers are joined
  submitter.stop();   // its call under way was just cut; its audit entries are queued before the writer stops
  admin.stop();
  auditWriter.stop();  // commits what is queued and signs the final checkpoint
  registry.stop();
  Poco::Net::SSLManager::instance().shutdown();
  spdlog::info("stopped");
  return 0;
}

}  // namespace hie::app

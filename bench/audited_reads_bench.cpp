// Audited reads/s next to the same reads with a no-op audit sink.
//
// Runs the node's real request path in-process (mTLS listener, registry,
// policy, record store, audit writer with group commit) against PostgreSQL,
// and C keep-alive HTTPS clients on loopback that GET /fhir/Patient/{id} for
// a fixed time. The no-op sink exists only in this benchmark; the node
// itself cannot run without its audit trail.
//
//   audited_reads_bench --db URI --owner-db URI [--seconds 5] [--clients 8] [--bundle FILE]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <thread>
#include <vector>

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/RejectCertificateHandler.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/NullStream.h>
#include <Poco/StreamCopier.h>
#include <spdlog/spdlog.h>

#include "audit/pg_audit_log_store.h"
#include "audit/audit_writer.h"
#include "audit/postgres_audit_reader.h"
#include "auth/registry/organization_registry.h"
#include "auth/registry/registry_repository.h"
#include "common/file.h"
#include "auth/tls/client_standing.h"
#include "auth/tls/server_tls_context.h"
#include "auth/tls/tls_material.h"
#include "auth/tls/tls_material_store.h"
#include "db/connection.h"
#include "db/migrations.h"
#include "exchange/fhir/bundle_import.h"
#include "exchange/handlers/audit_api.h"
#include "exchange/handlers/capability_statement.h"
#include "exchange/http/https_server.h"
#include "exchange/http/request_gate.h"
#include "exchange/records/postgres_record_store.h"
#include "tests/support/test_pki.h"

using namespace hie;

namespace {

const std::string kMember = "urn:oid:2.16.840.1.113883.3.7001";

class NoopSink : public audit::AuditSink {
 public:
  Result<std::int64_t> record(const audit::AuditEvent&) override { return ++n_; }
  void recordAsync(const audit::AuditEvent&) override {}

 private:
  std::atomic<std::int64_t> n_{0};
};

struct RunResult {
  double seconds = 0;
  long long ok = 0;
  long long failed = 0;
  std::vector<double> latenciesMs;
};

[[noreturn]] void die(const std::string& what) {
  std::cerr << "audited_reads_bench: " << what << "\n";
  std::exit(1);
}

RunResult hammer(int port, const std::string& dir, int clients, int seconds) {
  std::atomic<long long> ok{0}, failed{0};
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(clients));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      Poco::Net::Context::Ptr ctx = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, dir + "/member.key",
                                                           dir + "/member.crt", dir + "/root.pem",
                                                           Poco::Net::Context::VERIFY_STRICT);
      Poco::Net::HTTPSClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port), ctx);
      session.setKeepAlive(true);
      while (std::chrono::steady_clock::now() < deadline) {
        const auto t0 = std::chrono::steady_clock::now();
        try {
          Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/fhir/Patient/p-ava",
                                         Poco::Net::HTTPMessage::HTTP_1_1);
          request.set("X-Purpose-Of-Use", "TREAT");
          session.sendRequest(request);
          Poco::Net::HTTPResponse response;
          std::istream& body = session.receiveResponse(response);
          Poco::NullOutputStream sink;
          Poco::StreamCopier::copyStream(body, sink);
          if (response.getStatus() == Poco::Net::HTTPResponse::HTTP_OK) {
            ++ok;
            latencies[static_cast<std::size_t>(c)].push_back(
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
          } else {
            ++failed;
          }
        } catch (const Poco::Exception&) {
          ++failed;
          session.reset();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  RunResult r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  r.ok = ok;
  r.failed = failed;
  for (auto& l : latencies) r.latenciesMs.insert(r.latenciesMs.end(), l.begin(), l.end());
  std::sort(r.latenciesMs.begin(), r.latenciesMs.end());
  return r;
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(p * static_cast<double>(sorted.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args{{"seconds", "5"}, {"clients", "8"}};
  for (int i = 1; i + 1 < argc; i += 2) args[std::string(argv[i]).substr(2)] = argv[i + 1];
  if (!args.count("db") || !args.count("owner-db") || (!args.count("bundle") && args["mode"] != "writer")) {
    die("usage: audited_reads_bench --db URI --owner-db URI --bundle FILE [--seconds N] [--clients N]");
  }
  const int seconds = std::stoi(args["seconds"]), clients = std::stoi(args["clients"]);
  spdlog::set_level(spdlog::level::warn);
  if (args.count("mode") && args["mode"] == "writer") {
    // The audit writer alone: `clients` threads each record() in a loop; entries durably committed per second.
    {
      auto owner = db::connect(args["owner-db"]);
      if (!owner) die(owner.error().internal);
      if (auto m = db::applyMigrations(**owner, db::embeddedMigrations(), {}); !m) die(m.error().internal);
    }
    Counters counters;
    audit::AuditWriter writer(std::make_unique<audit::PgAuditLogStore>(args["db"]), *audit::SigningKey::generate(), "bench",
                              "hie-node/bench/audit", audit::WriterOptions{}, counters);
    if (auto s = writer.start(); !s) die(s.error().internal);
    std::atomic<long long> committed{0};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    const auto started = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
      threads.emplace_back([&, c] {
        audit::AuditEvent e;
        e.eventType = "rest";
        e.action = "read";
        e.outcome = "success";
        e.organization = kMember;
        e.resourceType = "Patient";
        e.resourceId = "p-ava";
        e.patient = "Patient/p-ava";
        e.purpose = "TREAT";
        e.httpStatus = 200;
        e.method = "GET";
        e.path = "/fhir/Patient/p-ava";
        for (long i = 0; std::chrono::steady_clock::now() < deadline; ++i) {
          e.requestId = "w-" + std::to_string(c) + "-" + std::to_string(i);
          if (writer.record(e)) ++committed;
        }
      });
    }
    for (auto& t : threads) t.join();
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    writer.stop();
    const double batches = static_cast<double>(std::max<std::uint64_t>(1, counters.auditBatchesCommitted.value()));
    std::printf("| audit writer (group commit, one signed checkpoint per commit, %d threads) | %.0f entries/s | %.1f entries "
                "per commit; per commit %.0f µs encoding, hashing and signing, %.0f µs storing (one round trip incl. fsync) |\n",
                clients, static_cast<double>(committed) / elapsed,
                static_cast<double>(counters.auditEntriesCommitted.value()) / batches,
                static_cast<double>(counters.auditSignMicros.value()) / batches,
                static_cast<double>(counters.auditStoreMicros.value()) / batches);
    return 0;
  }
  Poco::Net::initializeSSL();

  // Schema, organization, grant, data.
  {
    auto owner = db::connect(args["owner-db"]);
    if (!owner) die(owner.error().internal);
    if (auto m = db::applyMigrations(**owner, db::embeddedMigrations(), {}); !m) die(m.error().internal);
  }
  auth::RegistryRepository repo(args["db"]);
  auth::Organization org{kMember, "Bench Member", auth::OrganizationStatus::kActive, {auth::Role::kMember}, {}, {}};
  (void)repo.add(org, std::nullopt);
  auth::Grant grant{0, kMember, {"Patient"}, {auth::Action::kRead}, {"TREAT"}};
  if (auto g = repo.addGrant(grant); !g) die(g.error().internal);
  {
    auto text = hie::readFile(args["bundle"], "bundle");
    if (!text) die(text.error().internal);
    auto check = exchange::checkBundle(*text, exchange::defaultResourceTypes());
    auto conn = db::connect(args["db"]);
    if (!conn) die(conn.error().internal);
    if (auto imported = exchange::importBundle(**conn, check); !imported) die(imported.error().internal);
  }

  // Test-time PKI, as in the integration tests.
  testing::TempDir dir;
  testing::TestPki pki = testing::TestPki::create();
  testing::CertSpec serverSpec;
  serverSpec.commonName = "bench-node";
  serverSpec.sanDns = {"localhost"};
  serverSpec.sanIps = {"127.0.0.1"};
  serverSpec.extendedKeyUsage = {"serverAuth", "clientAuth"};
  auto serverCert = pki.leaf(serverSpec);
  testing::CertSpec memberSpec;
  memberSpec.commonName = "bench-member";
  memberSpec.sanUris = {kMember};
  memberSpec.extendedKeyUsage = {"clientAuth"};
  auto member = pki.leaf(memberSpec);
  testing::writeFile(dir.path(), "node.crt", pki.chainPem(serverCert));
  testing::writeFile(dir.path(), "node.key", serverCert.keyPem());
  testing::writeFile(dir.path(), "root.pem", pki.root.certPem());
  testing::writeFile(dir.path(), "member.crt", pki.chainPem(member));
  testing::writeFile(dir.path(), "member.key", member.keyPem());
  Poco::Net::SSLManager::instance().initializeClient(nullptr, new Poco::Net::RejectCertificateHandler(false),
                                                     nullptr);

  auto tls =
      auth::TlsMaterialStore::open({dir.path() + "/node.crt", dir.path() + "/node.key", dir.path() + "/root.pem", ""});
  if (!tls) die(tls.error().internal);
  auto context = auth::makeServerContext(*(*tls)->current()->material, auth::ServerTlsOptions{});
  if (!context) die(context.error().internal);
  (*tls)->attachTo((*context)->sslContext());  // as `serve` wires it
  auth::ClientRecheck recheck(**tls, nullptr);
  recheck.attachTo((*context)->sslContext());

  auth::OrganizationRegistry registry(std::make_unique<auth::RegistryRepository>(args["db"]), std::chrono::seconds(1));
  if (auto r = registry.start(); !r) die(r.error().internal);
  Counters counters;
  db::ConnectionPool pool(args["db"], clients + 2);
  exchange::PgRecordStore store(pool);
  exchange::RecordApi records(store, exchange::RecordApiSettings{});
  audit::PgAuditReader auditReader(pool);
  exchange::AuditApi auditApi(auditReader);
  exchange::CapabilityStatementHandler metadata(exchange::NodeDescription{"bench", kMember, "bench", {}});
  exchange::RequestGate gate(registry, metadata, records, auditApi, nullptr, counters, "");
  exchange::ListenerOptions listener;
  listener.port = 0;
  listener.threads = clients + 2;

  auto run = [&](audit::AuditSink& sink, const char* label) {
    exchange::HttpsServer server(*context, listener, recheck, gate, sink, counters);
    auto port = server.start();
    if (!port) die(port.error().internal);
    hammer(*port, dir.path(), clients, 1);  // warm-up: handshakes, pool, caches
    RunResult r = hammer(*port, dir.path(), clients, seconds);
    server.stop(2);
    std::printf("| %-22s | %8d | %10.0f | %8.2f | %8.2f | %6lld |\n", label, clients,
                static_cast<double>(r.ok) / r.seconds, percentile(r.latenciesMs, 0.50), percentile(r.latenciesMs, 0.99),
                r.failed);
    return static_cast<double>(r.ok) / r.seconds;
  };

  std::printf("| run                    | clients  | reads/s    | p50 ms   | p99 ms   | errors |\n");
  std::printf("|------------------------|----------|------------|----------|----------|--------|\n");
  NoopSink noop;
  const double baseline = run(noop, "no-op audit sink");
  audit::SigningKey key = *audit::SigningKey::generate();
  audit::AuditWriter writer(std::make_unique<audit::PgAuditLogStore>(args["db"]), key, "bench", "hie-node/bench/audit",
                            audit::WriterOptions{}, counters);
  if (auto s = writer.start(); !s) die(s.error().internal);
  const double audited = run(writer, "audited (group commit)");
  writer.stop();
  registry.stop();
  std::printf("\naudited / no-op = %.2f; audit entries committed: %llu in %llu batches (%.1f per commit)\n",
              audited / baseline, static_cast<unsigned long long>(counters.auditEntriesCommitted.value()),
              static_cast<unsigned long long>(counters.auditBatchesCommitted.value()),
              counters.auditBatchesCommitted.value() == 0
                  ? 0.0
                  : static_cast<double>(counters.auditEntriesCommitted.value()) /
                        static_cast<double>(counters.auditBatchesCommitted.value()));
  Poco::Net::uninitializeSSL();
  return 0;
}

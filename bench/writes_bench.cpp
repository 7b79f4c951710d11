// FHIR write transactions against a running node, for scripts/bench (scripts/lib/bench-writes.sh).
//
//   writes_bench --mode import-file --bundle DEMO.json --resources N --tag T --out FILE
//       A collection Bundle of N new resources of the demo's shape, for `hie-node records import`.
//   writes_bench --mode pgbench-script --bundle DEMO.json --resources N --out FILE
//       A pgbench script: one INSERT of the same N resources (ids from pgbench_fhir_seq) into pgbench_fhir.
//   writes_bench --mode load --bundle DEMO.json --resources N --tag T --port P --ca CA.pem
//                --cert CLIENT.crt --key CLIENT.key [--clients C] [--seconds S] [--nodelay 1|0]
//       C clients, each on its own keep-alive mTLS connection, POST transaction Bundles of N new
//       resources to https://127.0.0.1:P/fhir (X-Purpose-Of-Use: HOPERAT) for S seconds, one after
//       another. Prints "transactions/s resources/s p50_ms p99_ms failed". The client sets TCP_NODELAY
//       (as curl and most HTTP clients do) unless --nodelay 0.
//
// The resources: the demo bundle's entries in order (a Patient, then its Encounter, Condition,
// AllergyIntolerance, MedicationStatement, 3 Observations and 2 DocumentReferences; 3 patients),
// cycled. Every group of 10 gets a new patient: the demo patient's id (the prefix of its resources'
// ids and the target of their references) becomes "<tag>-<client>-<n>-<group>" (the import file:
// "<tag>-<group>"), and its identifier values get that id as a suffix, so every transaction writes
// new resources only (version 1), as an import of new data does. Transaction entries are
// PUT Type/id; the resources are byte for byte those of the import file for the same id.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>
#include <vector>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include "common/file.h"
#include "common/poco_json.h"
#include "tests/support/test_pki.h"
#include "tests/support/tls_client.h"

using namespace hie;
using Clock = std::chrono::steady_clock;

namespace {

std::map<std::string, std::string> parseArgs(int argc, char** argv) {
  std::map<std::string, std::string> out;
  for (int i = 1; i + 1 < argc; i += 2) out[argv[i]] = argv[i + 1];
  return out;
}

std::string arg(const std::map<std::string, std::string>& args, const std::string& name, const std::string& def) {
  auto it = args.find(name);
  return it == args.end() ? def : it->second;
}

[[noreturn]] void die(const std::string& why) {
  std::cerr << "writes_bench: " << why << "\n";
  std::exit(1);
}

std::string readOrDie(const std::string& path, const char* what) {
  auto text = readFile(path, what);
  if (!text) die(std::string("cannot read ") + what + ": " + text.error().internal);
  return *text;
}

void replaceAll(std::string& s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

// One demo entry: its type, its id, its text, and the demo patient it belongs to.
struct Template {
  std::string type, id, json, patient;
  std::vector<std::string> identifierValues;  // a Patient's
};

struct Demo {
  std::vector<Template> entries;

  explicit Demo(const std::string& path) {
    Poco::JSON::Parser parser;
    const auto bundle = parser.parse(readOrDie(path, "--bundle")).extract<Poco::JSON::Object::Ptr>();
    const auto list = bundle->getArray("entry");
    std::string patient;
    for (std::size_t i = 0; list && i < list->size(); ++i) {
      const auto resource = list->getObject(static_cast<unsigned>(i))->getObject("resource");
      Template t;
      t.type = resource->getValue<std::string>("resourceType");
      t.id = resource->getValue<std::string>("id");
      if (t.type == "Patient") {
        patient = t.id;
        if (const auto ids = resource->getArray("identifier")) {
          for (std::size_t k = 0; k < ids->size(); ++k) {
            t.identifierValues.push_back(ids->getObject(static_cast<unsigned>(k))->getValue<std::string>("value"));
          }
        }
      }
      if (patient.empty() || t.id.rfind(patient, 0) != 0) die("the bundle is not of the demo's shape: " + t.id);
      t.patient = patient;
      t.json = pocoJsonText(*resource);
      entries.push_back(std::move(t));
    }
    if (entries.empty()) die("the bundle has no entries");
  }

  // Resource i of a run whose patients are "<prefix>-<group>" (group = i / 10).
  void resource(const std::string& prefix, std::size_t i, std::string& type, std::string& id,
                std::string& json) const {
    const Template& t = entries[i % entries.size()];
    const std::string patient = prefix + "-" + std::to_string(i / 10);
    type = t.type;
    id = patient + t.id.substr(t.patient.size());
    json = t.json;
    for (const auto& v : t.identifierValues) replaceAll(json, "\"" + v + "\"", "\"" + v + "." + patient + "\"");
    replaceAll(json, "\"" + t.patient + "\"", "\"" + patient + "\"");                  // the Patient's id
    replaceAll(json, "\"" + t.id + "\"", "\"" + id + "\"");                            // any other resource's id
    replaceAll(json, "\"Patient/" + t.patient + "\"", "\"Patient/" + patient + "\"");  // references
  }
};

std::string transaction(const Demo& demo, const std::string& prefix, std::size_t resources) {
  std::string out = R"({"resourceType":"Bundle","type":"transaction","entry":[)";
  std::string type, id, json;
  for (std::size_t i = 0; i < resources; ++i) {
    demo.resource(prefix, i, type, id, json);
    if (i > 0) out += ",";
    out += R"({"resource":)" + json + R"(,"request":{"method":"PUT","url":")" + type + "/" + id + R"("}})";
  }
  return out + "]}";
}

int importFile(const std::map<std::string, std::string>& args) {
  const Demo demo(arg(args, "--bundle", "config/demo/bundle.json"));
  const std::size_t resources = std::stoul(arg(args, "--resources", "50"));
  const std::string tag = arg(args, "--tag", "i");
  std::ofstream out(arg(args, "--out", "import.json"));
  out << R"({"resourceType":"Bundle","type":"collection","entry":[)";
  std::string type, id, json;
  for (std::size_t i = 0; i < resources; ++i) {
    demo.resource(tag, i, type, id, json);
    out << (i > 0 ? "," : "") << R"({"resource":)" << json << "}";
  }
  out << "]}\n";
  return out ? 0 : 1;
}

// A pgbench script: one INSERT of the same N resources (ids from a sequence) into pgbench_fhir.
int pgbenchScript(const std::map<std::string, std::string>& args) {
  const Demo demo(arg(args, "--bundle", "config/demo/bundle.json"));
  const std::size_t resources = std::stoul(arg(args, "--resources", "50"));
  std::ofstream out(arg(args, "--out", "pgbench.sql"));
  out << "INSERT INTO pgbench_fhir (resource_type, id, version, last_updated, patient_id, resource, deleted) VALUES\n";
  std::string type, id, json;
  for (std::size_t i = 0; i < resources; ++i) {
    demo.resource("pg", i, type, id, json);
    replaceAll(json, "'", "''");
    out << (i > 0 ? ",\n" : "") << "('" << type << "', 'pg-' || nextval('pgbench_fhir_seq'), 1, now(), 'pg-"
        << i / 10 << "', '" << json << "'::jsonb, false)";
  }
  out << ";\n";
  return out ? 0 : 1;
}

int load(const std::map<std::string, std::string>& args) {
  const Demo demo(arg(args, "--bundle", "config/demo/bundle.json"));
  const std::size_t resources = std::stoul(arg(args, "--resources", "50"));
  const std::string tag = arg(args, "--tag", "w");
  const int port = std::stoi(arg(args, "--port", "0"));
  const int clients = std::stoi(arg(args, "--clients", "1"));
  const int seconds = std::stoi(arg(args, "--seconds", "5"));
  const testing::Credential ca = testing::Credential::fromPem(readOrDie(arg(args, "--ca", ""), "--ca"), "");
  const std::string clientPem = readOrDie(arg(args, "--cert", ""), "--cert");
  const testing::Credential client = testing::Credential::fromPem(clientPem, readOrDie(arg(args, "--key", ""), "--key"));
  // The issuing CA(s) after the leaf in the certificate file, sent with it as the node expects.
  std::vector<testing::Credential> issuers;
  const std::string kBegin = "-----BEGIN CERTIFICATE-----";
  for (std::size_t at = clientPem.find(kBegin, 1); at != std::string::npos; at = clientPem.find(kBegin, at + 1)) {
    issuers.push_back(testing::Credential::fromPem(clientPem.substr(at), ""));
  }
  testing::ClientIdentity who{&client, {}};
  for (const auto& issuer : issuers) who.chain.push_back(&issuer);
  testing::TlsClientOptions options;
  options.noDelay = arg(args, "--nodelay", "1") == "1";
  const std::vector<std::string> headers{"X-Purpose-Of-Use: HOPERAT", "Content-Type: application/fhir+json"};

  std::atomic<bool> stop{false};
  std::atomic<long> failures{0};
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(clients));
  std::vector<std::thread> threads;
  const auto started = Clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      std::unique_ptr<testing::KeepAliveConnection> conn;
      for (long n = 0; !stop.load(); ++n) {
        // Built before the clock starts: the client's work is not the node's.
        const std::string body = transaction(demo, tag + "-" + std::to_string(c) + "-" + std::to_string(n), resources);
        const auto t0 = Clock::now();
        if (!conn || !conn->connected()) conn = std::make_unique<testing::KeepAliveConnection>(port, ca, who, testing::SavedSession{}, options);
        testing::HttpResult r = conn->send("POST", "/fhir", headers, body);
        if (r.tlsRefused) {
          // The node closed the idle or used-up connection (server.maxKeepAliveRequests): once more on a new one.
          conn = std::make_unique<testing::KeepAliveConnection>(port, ca, who, testing::SavedSession{}, options);
          r = conn->send("POST", "/fhir", headers, body);
          if (r.tlsRefused) conn.reset();
        }
        const bool ok = r.status == 200 && r.body.find("transaction-response") != std::string::npos;
        if (!ok && failures.fetch_add(1) == 0) {
          std::cerr << "writes_bench: first failure: status " << r.status << " " << r.tlsError << "\n"
                    << r.head << r.body.substr(0, 600) << "\n";
        }
        if (ok) {
          latencies[static_cast<std::size_t>(c)].push_back(
              std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));  // the run's length, not a wait for a condition
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  if (all.empty()) die("no transaction completed");
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all[std::min(all.size() - 1, static_cast<std::size_t>(p * all.size()))]; };
  const double tps = all.size() / elapsed;
  std::printf("%.0f %.0f %.2f %.2f %ld\n", tps, tps * static_cast<double>(resources), pct(0.50), pct(0.99),
              failures.load());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const auto args = parseArgs(argc, argv);
  const std::string mode = arg(args, "--mode", "load");
  if (mode == "import-file") return importFile(args);
  if (mode == "pgbench-script") return pgbenchScript(args);
  if (mode == "load") return load(args);
  die("--mode must be import-file, pgbench-script or load");
}

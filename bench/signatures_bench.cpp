// The cost of signed requests and answers (RFC 9421), for scripts/bench.
//
//   signatures_bench --mode micro [--iterations N]
//       CPU time of signing and verifying one request and one answer, per
//       algorithm (EC P-256 and RSA-2048 certificates made at run time).
//   signatures_bench --mode load --port P --ca CA.pem --cert CLIENT.crt --key CLIENT.key
//                    --node-cert NODE.crt [--clients C] [--seconds S] [--connection keep-alive|new]
//                    [--signed 0|1]
//       C clients GET /fhir/Patient/p-ava (X-Purpose-Of-Use: TREAT) from a node on
//       127.0.0.1:P for S seconds; with --signed 1 each request is signed with the
//       client's key and each answer's signature verified with the node's certificate.
//       Prints one markdown row: requests/s, p50 and p99 in ms, failures.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>
#include <vector>

#include "auth/identity/certificate_identity.h"
#include "auth/signatures/exchange_signatures.h"
#include "common/file.h"
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
  std::cerr << "signatures_bench: " << why << "\n";
  std::exit(1);
}

template <class T>
T must(Result<T> r, const char* what) {
  if (!r) die(std::string(what) + ": " + r.error().internal);
  return std::move(*r);
}

auth::HttpMessage request(const std::string& id) {
  auth::HttpMessage m;
  m.method = "GET";
  m.targetUri = "https://localhost/fhir/Patient/p-ava";
  m.fields = {{"X-Purpose-Of-Use", "TREAT"}, {"X-Request-Id", id}};
  return m;
}

// The answer's header fields from a response head ("HTTP/1.1 200 OK\r\nName: value\r\n...").
auth::HttpMessage answer(const testing::HttpResult& r) {
  auth::HttpMessage m;
  m.status = r.status;
  std::istringstream in(r.head);
  std::string line;
  std::getline(in, line);  // status line
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    m.fields.emplace_back(line.substr(0, colon), value);
  }
  return m;
}

struct Signer {
  std::string name;
  testing::Credential credential;
};

// Median microseconds of `op` over n runs.
template <class F>
double medianMicros(int n, F op) {
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    op(i);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  std::nth_element(us.begin(), us.begin() + n / 2, us.end());
  return us[static_cast<std::size_t>(n / 2)];
}

int micro(int iterations) {
  testing::CertSpec ca;
  ca.commonName = "Bench CA";
  ca.isCa = true;
  const testing::Credential root = testing::issue(ca, nullptr);
  std::vector<Signer> signers;
  for (auto [name, type] : {std::pair{"EC P-256", testing::KeyType::kEcP256},
                            std::pair{"RSA-2048", testing::KeyType::kRsa2048}}) {
    testing::CertSpec spec;
    spec.commonName = name;
    spec.keyType = type;
    spec.extendedKeyUsage = {"clientAuth", "serverAuth"};
    signers.push_back({name, testing::issue(spec, &root)});
  }
  std::printf("| key | algorithm | sign request | verify request | sign answer | verify answer |\n");
  std::printf("|---|---|---|---|---|---|\n");
  const std::string body = R"({"resourceType":"Patient","id":"p-ava"})";
  for (const Signer& s : signers) {
    const auto key = must(auth::MessageSigningKey::fromPem(s.credential.keyPem(), s.credential.certPem()), "key");
    const auto id = must(auth::extractIdentity(s.credential.cert()), "identity");
    const std::int64_t now = std::time(nullptr);
    const auth::SignatureWindow window{now, 300, 30};
    std::vector<auth::HttpMessage> signedRequests;
    std::vector<auth::SignatureEvidence> evidence;
    const double signReq = medianMicros(iterations, [&](int i) {
      auth::HttpMessage m = request("bench-" + std::to_string(i));
      auto f = must(auth::signRequest(key, m, nullptr, now), "signRequest");
      for (auto& field : f.fields) m.fields.push_back(field);
      signedRequests.push_back(std::move(m));
      evidence.push_back(std::move(f.evidence));
    });
    const double verifyReq = medianMicros(iterations, [&](int i) {
      auto v = auth::verifyRequest(signedRequests[static_cast<std::size_t>(i)], "", id.publicKeyDer, id.certSha256,
                                   window);
      if (!v || !*v) die("a request signed here does not verify");
    });
    std::vector<auth::HttpMessage> answers;
    const double signAns = medianMicros(iterations, [&](int i) {
      auth::HttpMessage a;
      a.status = 200;
      a.fields = {{"X-Request-Id", "bench-" + std::to_string(i)}, {"Content-Type", "application/fhir+json"}};
      auto f = must(auth::signResponse(key, a, body, signedRequests[static_cast<std::size_t>(i)],
                                       &evidence[static_cast<std::size_t>(i)], now),
                    "signResponse");
      for (auto& field : f.fields) a.fields.push_back(field);
      answers.push_back(std::move(a));
    });
    const double verifyAns = medianMicros(iterations, [&](int i) {
      const auto n = static_cast<std::size_t>(i);
      auto v = auth::verifyResponse(answers[n], body, signedRequests[n], &evidence[n], id.publicKeyDer, id.certSha256,
                                    window);
      if (!v || !*v) die("an answer signed here does not verify");
    });
    std::printf("| %s | %s | %.0f µs | %.0f µs | %.0f µs | %.0f µs |\n", s.name.c_str(),
                auth::algorithmName(key.algorithm()), signReq, verifyReq, signAns, verifyAns);
  }
  return 0;
}

int load(const std::map<std::string, std::string>& args) {
  const int port = std::stoi(arg(args, "--port", "0"));
  const int clients = std::stoi(arg(args, "--clients", "1"));
  const int seconds = std::stoi(arg(args, "--seconds", "5"));
  const bool keepAlive = arg(args, "--connection", "keep-alive") == "keep-alive";
  const bool sign = arg(args, "--signed", "0") == "1";
  auto read = [&](const char* name) {
    auto text = readFile(arg(args, name, ""), name);
    if (!text) die(std::string("cannot read ") + name + ": " + text.error().internal);
    return *text;
  };
  const testing::Credential ca = testing::Credential::fromPem(read("--ca"), "");
  const std::string clientPem = read("--cert");
  const testing::Credential client = testing::Credential::fromPem(clientPem, read("--key"));
  // The issuing CA(s) after the leaf in the certificate file, sent with it as the node expects.
  std::vector<testing::Credential> issuers;
  const std::string kBegin = "-----BEGIN CERTIFICATE-----";
  for (std::size_t at = clientPem.find(kBegin, 1); at != std::string::npos; at = clientPem.find(kBegin, at + 1)) {
    issuers.push_back(testing::Credential::fromPem(clientPem.substr(at), ""));
  }
  const testing::Credential node = testing::Credential::fromPem(read("--node-cert"), "");
  const auto key = must(auth::MessageSigningKey::fromPem(client.keyPem(), client.certPem()), "client key");
  const auto nodeId = must(auth::extractIdentity(node.cert()), "node certificate");
  testing::ClientIdentity who{&client, {}};
  for (const auto& issuer : issuers) who.chain.push_back(&issuer);

  std::atomic<bool> stop{false};
  std::atomic<long> failures{0};
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(clients));
  std::vector<std::thread> threads;
  const auto started = Clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      std::unique_ptr<testing::KeepAliveConnection> conn;
      long n = 0;
      while (!stop.load()) {
        const std::string id = "b" + std::to_string(c) + "-" + std::to_string(n++);
        auth::HttpMessage m = request(id);
        std::vector<std::string> headers{"X-Purpose-Of-Use: TREAT", "X-Request-Id: " + id};
        auth::SignatureEvidence evidence;
        const auto t0 = Clock::now();
        if (sign) {
          auto f = auth::signRequest(key, m, nullptr, std::time(nullptr));
          if (!f) die("signRequest: " + f.error().internal);
          for (const auto& [name, value] : f->fields) {
            headers.push_back(name + ": " + value);
            m.fields.emplace_back(name, value);  // the answer covers the request's Signature field
          }
          evidence = f->evidence;
        }
        testing::HttpResult r;
        if (keepAlive) {
          if (!conn || !conn->connected()) conn = std::make_unique<testing::KeepAliveConnection>(port, ca, who);
          r = conn->get("/fhir/Patient/p-ava", headers);
          if (r.tlsRefused) {
            // The node closed the idle or used-up connection (server.maxKeepAliveRequests): once more on a new one.
            conn = std::make_unique<testing::KeepAliveConnection>(port, ca, who);
            r = conn->get("/fhir/Patient/p-ava", headers);
            if (r.tlsRefused) conn.reset();
          }
        } else {
          r = testing::tlsGet(port, ca, who, "/fhir/Patient/p-ava", headers);
        }
        bool ok = r.status == 200;
        if (ok && sign) {
          const auth::SignatureWindow window{static_cast<std::int64_t>(std::time(nullptr)), 300, 30};
          auto v = auth::verifyResponse(answer(r), r.body, m, &evidence, nodeId.publicKeyDer, nodeId.certSha256, window);
          ok = v.has_value() && v->has_value();
        }
        if (!ok && failures.fetch_add(1) == 0) {
          std::cerr << "signatures_bench: first failure: status " << r.status << " " << r.tlsError << "\n"
                    << r.head << r.body.substr(0, 300) << "\n";
        }
        latencies[static_cast<std::size_t>(c)].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));  // the run's length, not a wait for a condition
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  if (all.empty()) die("no request completed");
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all[std::min(all.size() - 1, static_cast<std::size_t>(p * all.size()))]; };
  std::printf("%.0f %.2f %.2f %ld\n", all.size() / elapsed, pct(0.50), pct(0.99), failures.load());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const auto args = parseArgs(argc, argv);
  const std::string mode = arg(args, "--mode", "micro");
  if (mode == "micro") return micro(std::stoi(arg(args, "--iterations", "2000")));
  if (mode == "load") return load(args);
  die("--mode must be micro or load");
}

// The outbound client against peers that are too slow, in process: one
// deadline bounds the handshake and the whole answer, and stop() cuts the
// calls in flight and joins its workers.
#include "exchange/peers/peer_client.h"

#include "auth/registry/organization_registry.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "auth/tls/tls_material.h"
#include "tests/support/node_process.h"
#include "tests/support/slow_tls_peer.h"
#include "tests/support/test_pki.h"

namespace hie::exchange {
namespace {

using hie::testing::CertSpec;
using hie::testing::Credential;
using hie::testing::SlowTlsPeer;
using hie::testing::TempDir;
using hie::testing::TestPki;
using hie::testing::waitFor;
using hie::testing::writeFile;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::string kNode = "urn:oid:2.16.840.1.113883.3.7100";
const std::string kSlow = "urn:oid:2.16.840.1.113883.3.7600";


auth::RegistrySnapshot registry() {
  auth::RegistrySnapshot snap;
  auth::Organization slow;
  slow.identifier = kSlow;
  slow.name = "Slow peer";
  slow.roles = {auth::Role::kMember};
  snap.organizations.push_back(slow);
  return snap;
}

// A valid searchset that takes about 4 minutes to arrive at one byte per 200 ms.
std::string slowAnswer() {
  std::string body = R"({"resourceType":"Bundle","type":"searchset","total":0})";
  body.append(1200, ' ');
  return "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

// Accepts one TCP connection at a time and answers its ClientHello with the header of a
// 16 KiB handshake record, then one byte every 100 ms: each read gets something, so only
// a deadline on the whole handshake ends it.
class HandshakeTrickler {
 public:
  HandshakeTrickler() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("cannot listen");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~HandshakeTrickler() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  int accepted() const { return accepted_; }
  bool serving() const { return serving_; }

 private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      ++accepted_;
      serving_ = true;
      const char header[] = {0x16, 0x03, 0x03, 0x40, 0x00};  // handshake record, 16384 bytes to follow
      bool open = ::send(c, header, sizeof header, MSG_NOSIGNAL) == sizeof header;
      for (int sent = 0; open && sent < 16384 && !stop_; ++sent) {
        pollfd q{c, POLLRDHUP, 0};
        if (::poll(&q, 1, 100) > 0) break;  // the client went away
        open = ::send(c, "\x02", 1, MSG_NOSIGNAL) == 1;
      }
      ::close(c);
      serving_ = false;
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> accepted_{0};
  std::atomic<bool> serving_{false};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class PeerClientSlowPeers : public ::testing::Test {
 protected:
  void SetUp() override {
    CertSpec node;
    node.commonName = "node-a";
    node.sanUris = {kNode};
    node.sanIps = {"127.0.0.1"};
    node.extendedKeyUsage = {"serverAuth", "clientAuth"};
    const Credential nodeCert = pki.leaf(node);
    auth::TlsFiles files;
    files.certificate = writeFile(dir.path(), "node.crt", pki.chainPem(nodeCert));
    files.privateKey = writeFile(dir.path(), "node.key", nodeCert.keyPem());
    files.trustBundle = writeFile(dir.path(), "ca.pem", pki.root.certPem());
    auto loaded = auth::loadTlsMaterial(files);
    ASSERT_TRUE(loaded) << loaded.error().internal;
    material = std::make_shared<const auth::TlsMaterial>(std::move(*loaded));
    CertSpec slow;
    slow.commonName = "slow";
    slow.sanUris = {kSlow};
    slow.sanIps = {"127.0.0.1"};
    slow.extendedKeyUsage = {"serverAuth"};
    peer = std::make_unique<SlowTlsPeer>(pki.leaf(slow), pki.intermediate, slowAnswer(), 200ms);
    entry = auth::PeerEntry{kSlow, "https://127.0.0.1:" + std::to_string(peer->port())};
  }

  TestPki pki = TestPki::create();
  TempDir dir;
  std::shared_ptr<const auth::TlsMaterial> material;
  auth::FixedOrganizationDirectory directory{registry()};
  Counters counters;
  std::unique_ptr<SlowTlsPeer> peer;
  auth::PeerEntry entry;
  const std::string path = "/fhir/Patient?identifier=a%7Cb";
};

TEST_F(PeerClientSlowPeers, TheDeadlineBoundsTheWholeAnswer) {
  PeerClient client(material, directory, ClientOptions{}, counters);
  // Each byte comes well within client.readTimeout (5 s): only the call's deadline can end this.
  auto r = client.get(entry, path, {}, Clock::now() + 700ms);
  ASSERT_FALSE(r) << "status " << r->status;
  EXPECT_EQ(r.error().reason, "timeout") << r.error().detail;
  EXPECT_EQ(r.error().detail, "no answer before the deadline");
  EXPECT_EQ(peer->handshakes(), 1) << "the answer was under way, and the call not retried past its deadline";
  EXPECT_TRUE(waitFor([&] { return peer->open() == 0; }, 3s)) << "the connection was closed, not read on";
}

TEST_F(PeerClientSlowPeers, TheDeadlineBoundsTheHandshake) {
  HandshakeTrickler trickler;
  PeerClient client(material, directory, ClientOptions{}, counters);
  const auth::PeerEntry trickling{kSlow, "https://127.0.0.1:" + std::to_string(trickler.port())};
  auto r = client.get(trickling, path, {}, Clock::now() + 700ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "timeout") << r.error().detail;
  EXPECT_EQ(trickler.accepted(), 1);
  EXPECT_TRUE(waitFor([&] { return !trickler.serving(); }, 3s)) << "the handshake was abandoned at the deadline";
}

TEST_F(PeerClientSlowPeers, StopCutsTheCallsInFlightAndJoinsTheWorkers) {
  ClientOptions options;
  options.maxConcurrentCalls = 2;
  auto client = std::make_unique<PeerClient>(material, directory, options, counters);
  std::mutex mutex;
  std::vector<PeerFailure> failures;
  std::atomic<int> done{0};
  for (int i = 0; i < 3; ++i) {  // two run, one waits for a worker
    ASSERT_TRUE(client->submit(Clock::now() + 1h, [&] {
      auto r = client->get(entry, path, {}, Clock::now() + 1h);
      std::lock_guard<std::mutex> lock(mutex);
      if (!r) failures.push_back(r.error());
      ++done;
    }));
  }
  ASSERT_TRUE(waitFor([&] { return peer->handshakes() == 2; }, 10s));
  client->stop();  // returns once both are cut and the workers joined (else it waits ~4 minutes)
  EXPECT_EQ(done, 2) << "the waiting call was dropped, not run";
  ASSERT_EQ(failures.size(), 2u);
  for (const auto& f : failures) {
    EXPECT_EQ(f.reason, "timeout");
    EXPECT_EQ(f.detail, "cancelled: the node is shutting down");
  }
  EXPECT_TRUE(waitFor([&] { return peer->open() == 0; }, 3s));
  EXPECT_FALSE(client->submit(Clock::now() + 1h, [] {}));
  auto late = client->get(entry, path, {}, Clock::now() + 1h);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().detail, "cancelled: the node is shutting down");
  EXPECT_EQ(peer->handshakes(), 2) << "nothing is sent once stopped";
  client.reset();
}

}  // namespace
}  // namespace hie::exchange

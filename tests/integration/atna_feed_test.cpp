// The ATNA feed against a real audit record repository: Debian's rsyslogd with its OpenSSL
// stream driver (imtcp, RFC 5425, StreamDriver.Mode 1, AuthMode x509/certvalid: the node must
// present a client certificate of the test PKI), writing every message whole to a file.
// - every committed entry arrives, named by origin and index in its structured data;
// - rsyslog killed (SIGKILL) under load: the backlog gauge grows; the node restarts meanwhile; rsyslog
//   restarts; every entry arrives, and an entry received twice is the same message (same id);
// - a repository whose certificate comes from a foreign CA gets nothing;
// - atna.format = fhir sends the FHIR AuditEvent JSON.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <pqxx/pqxx>

#include "tests/support/node_fixture.h"

namespace hie::testing {
namespace {

const std::string kLakeside = "urn:oid:2.16.840.1.113883.3.7001";
const std::string kOrigin = "hie-node/node-a/audit";

std::string readAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// True when a TCP connection to 127.0.0.1:port is accepted.
bool accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// A real rsyslogd receiving RFC 5425 syslog over TLS with client authentication. Killed by the destructor.
class Rsyslog {
 public:
  // cert: the repository's certificate (chain PEM and key); clientCa: the anchors it takes clients from.
  Rsyslog(const std::string& dir, const std::string& chainPem, const std::string& keyPem, const std::string& clientCa)
      : dir_(dir) {
    writeFile(dir_, "repo.crt", chainPem);
    writeFile(dir_, "repo.key", keyPem);
    writeFile(dir_, "clients-ca.pem", clientCa);
    ::mkdir((dir_ + "/work").c_str(), 0700);
  }
  ~Rsyslog() { stop(); }

  // Starts rsyslogd on port (0: any free port, read back from its port file); false if it did not listen in time.
  bool start(int port = 0) {
    ::unlink((dir_ + "/port").c_str());
    std::ofstream conf(dir_ + "/rsyslog.conf", std::ios::trunc);
    conf << "global(workDirectory=\"" << dir_ << "/work\" maxMessageSize=\"256k\"\n"
         << "  defaultNetstreamDriver=\"ossl\" defaultNetstreamDriverCAFile=\"" << dir_ << "/clients-ca.pem\"\n"
         << "  defaultNetstreamDriverCertFile=\"" << dir_ << "/repo.crt\" defaultNetstreamDriverKeyFile=\"" << dir_
         << "/repo.key\")\n"
         // Direct: a message is written before imtcp reads on, so a session it closed was written out.
         << "main_queue(queue.type=\"Direct\")\n"
         << "module(load=\"imtcp\" streamDriver.name=\"ossl\" streamDriver.mode=\"1\" "
            "streamDriver.authMode=\"x509/certvalid\" maxSessions=\"50\")\n"
         << "input(type=\"imtcp\" port=\"" << port << "\" address=\"127.0.0.1\" listenPortFileName=\"" << dir_
         << "/port\")\n"
         << "template(name=\"whole\" type=\"string\" string=\"%rawmsg%\\n\")\n"
         << "action(type=\"omfile\" file=\"" << dir_ << "/received.log\" template=\"whole\")\n";
    conf.close();
    pid_ = fork();
    if (pid_ == 0) {
      const int out = ::open((dir_ + "/rsyslogd.out").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      dup2(out, 1);
      dup2(out, 2);
      execl("/usr/sbin/rsyslogd", "rsyslogd", "-n", "-f", (dir_ + "/rsyslog.conf").c_str(), "-i",
            (dir_ + "/rsyslogd.pid").c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    if (port != 0) {
      // rsyslog writes its port file only for port 0: wait until the port takes connections.
      port_ = port;
      return waitFor([&] { return accepts(port); }, std::chrono::seconds(20));
    }
    const bool listening = waitFor(
        [&] {
          // Written in one write(2), without a newline.
          std::string text = readAll(dir_ + "/port");
          while (!text.empty() && text.back() == '\n') text.pop_back();
          if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return false;
          port_ = std::stoi(text);
          return port_ > 0;
        },
        std::chrono::seconds(20));
    return listening;
  }

  // SIGTERM (default) or SIGKILL: the repository dies without a word to its clients.
  void stop(int sig = SIGTERM) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status = 0;
    if (!waitFor([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, std::chrono::seconds(10))) {
      ::kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
    pid_ = -1;
  }

  int port() const { return port_; }
  std::string received() const { return readAll(dir_ + "/received.log"); }
  std::string output() const { return readAll(dir_ + "/rsyslogd.out"); }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// One received message: its structured data's origin, index and leaf hash, and the whole line.
struct Received {
  std::string origin;
  long long index = -1;
  std::string leafHash;
  std::string line;
};

std::string sdParam(const std::string& line, const std::string& name) {
  const std::string key = " " + name + "=\"";
  const auto at = line.find(key);
  if (at == std::string::npos) return "";
  const auto start = at + key.size();
  return line.substr(start, line.find('"', start) - start);
}

std::vector<Received> parseReceived(const std::string& text) {
  std::vector<Received> out;
  std::stringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    Received r;
    r.line = line;
    r.origin = sdParam(line, "origin");
    const std::string index = sdParam(line, "index");
    r.index = index.empty() ? -1 : std::stoll(index);
    r.leafHash = sdParam(line, "leafHash");
    out.push_back(r);
  }
  return out;
}

long long committedSize(const std::string& uri) {
  pqxx::connection c(uri);
  pqxx::read_transaction tx(c);
  return tx.exec_params1("SELECT coalesce(max(tree_size), 0) FROM audit_log_checkpoints WHERE origin = $1", kOrigin)[0]
      .as<long long>();
}

// The gauge's value on /metrics (-2 when absent).
long long backlogGauge(const NodeProcess& node) {
  const std::string metrics = node.metrics();
  const std::string name = "\nhie_atna_backlog_entries ";
  const auto at = metrics.find(name);
  if (at == std::string::npos) return -2;
  return std::stoll(metrics.substr(at + name.size()));
}

// Every committed index of the node's log received, each at least once.
bool allReceived(const Rsyslog& repo, const std::string& dbUri) {
  const long long size = committedSize(dbUri);
  std::set<long long> seen;
  for (const auto& r : parseReceived(repo.received())) {
    if (r.origin == kOrigin) seen.insert(r.index);
  }
  for (long long i = 0; i < size; ++i) {
    if (seen.count(i) == 0) return false;
  }
  return size > 0;
}

class AtnaFeedTest : public ::testing::Test {
 protected:
  AtnaFeedTest() : member(f.memberCert({kLakeside}, "lakeside")) {}

  // A repository certificate for 127.0.0.1 from pki.
  Credential repositoryCert(const TestPki& pki) const {
    CertSpec spec;
    spec.commonName = "audit-repository";
    spec.sanDns = {"localhost"};
    spec.sanIps = {"127.0.0.1"};
    spec.extendedKeyUsage = {"serverAuth"};
    return pki.leaf(spec);
  }

  void configureFeed(int port, const std::string& format = "dicom") {
    f.config["atna.host"] = "127.0.0.1";
    f.config["atna.port"] = std::to_string(port);
    f.config["atna.format"] = format;
    f.config["atna.batchSize"] = "25";
    f.config["atna.timeout"] = "2000";
    f.config["atna.retryMax"] = "1";
    f.writeConfig();
  }

  void request() {
    auto r = f.get(member, "/fhir/metadata");
    EXPECT_EQ(r.status, 200) << r.body;
  }

  NodeFixture f;
  Credential member;
  TempDir repoDir;
};

TEST_F(AtnaFeedTest, EveryEntryArrivesAcrossRepositoryOutageAndNodeRestart) {
  const Credential repoCert = repositoryCert(f.pki);
  Rsyslog repo(repoDir.path(), f.pki.chainPem(repoCert), repoCert.keyPem(), f.pki.root.certPem());
  ASSERT_TRUE(repo.start()) << repo.output();
  const int port = repo.port();
  configureFeed(port);
  f.migrate();
  f.addOrg(kLakeside, "Lakeside Clinic");
  NodeProcess& node = f.start();
  for (int i = 0; i < 30; ++i) request();
  ASSERT_TRUE(waitFor([&] { return allReceived(repo, f.db.uri()); }, std::chrono::seconds(30)))
      << "committed " << committedSize(f.db.uri()) << "\n" << repo.received() << "\n" << node.log() << repo.output();
  EXPECT_TRUE(waitFor([&] { return backlogGauge(node) == 0; }, std::chrono::seconds(10))) << node.metrics();

  // The repository dies under load (SIGKILL, mid-batch as it may be): requests keep being answered,
  // and the backlog grows.
  std::atomic<bool> loading{true};
  std::atomic<int> answered{0};
  const int nodePort = node.port();
  std::thread load([&] {
    while (loading) {
      auto r = tlsGet(nodePort, f.pki.root, f.as(member), "/fhir/metadata");
      if (r.status == 200) ++answered;
    }
  });
  repo.stop(SIGKILL);
  const int before = answered.load();
  ASSERT_TRUE(waitFor([&] { return answered.load() > before + 50; }, std::chrono::seconds(30)));
  EXPECT_TRUE(waitFor([&] { return backlogGauge(node) > 20; }, std::chrono::seconds(20))) << node.metrics();
  const long long grown = backlogGauge(node);
  EXPECT_TRUE(waitFor([&] { return backlogGauge(node) > grown; }, std::chrono::seconds(20))) << node.metrics();
  loading = false;
  load.join();
  EXPECT_GT(node.counter("hie_atna_failures_total{kind=\"transport\"}"), 0u) << node.metrics();

  // The node restarts while the repository is still down; its backlog is the database's.
  ASSERT_EQ(node.stop(), 0) << node.log();
  NodeProcess& second = f.start();
  for (int i = 0; i < 10; ++i) request();
  EXPECT_TRUE(waitFor([&] { return backlogGauge(second) > grown; }, std::chrono::seconds(20))) << second.metrics();

  // The repository is back on its port: everything arrives.
  ASSERT_TRUE(repo.start(port)) << repo.output();
  for (int i = 0; i < 10; ++i) request();
  ASSERT_TRUE(waitFor([&] { return allReceived(repo, f.db.uri()) && backlogGauge(second) == 0; },
                      std::chrono::seconds(60)))
      << "committed " << committedSize(f.db.uri()) << " backlog " << backlogGauge(second) << "\n"
      << second.log() << repo.output();

  // Every message names its entry; one received twice is the same message, so dedup by id is exact.
  std::map<long long, std::string> byIndex;
  int duplicates = 0;
  for (const auto& r : parseReceived(repo.received())) {
    ASSERT_EQ(r.origin, kOrigin) << r.line;
    ASSERT_GE(r.index, 0) << r.line;
    EXPECT_EQ(r.leafHash.size(), 64u) << r.line;
    EXPECT_NE(r.line.find(" hie-node "), std::string::npos) << r.line;
    EXPECT_NE(r.line.find(" IHE+RFC-3881 [hie-audit@32473 "), std::string::npos) << r.line;
    EXPECT_NE(r.line.find("<AuditMessage>"), std::string::npos) << r.line;
    EXPECT_NE(r.line.find("</AuditMessage>"), std::string::npos) << r.line;
    auto [it, fresh] = byIndex.emplace(r.index, r.line);
    if (!fresh) {
      ++duplicates;
      EXPECT_EQ(it->second, r.line) << "index " << r.index << " arrived twice with different content";
    }
  }
  EXPECT_EQ(static_cast<long long>(byIndex.size()), committedSize(f.db.uri()));
  std::cout << "[ atna ] " << byIndex.size() << " entries received, " << duplicates << " duplicate messages\n";
  pqxx::connection c(f.db.uri());
  pqxx::read_transaction tx(c);
  EXPECT_EQ(tx.exec_params1("SELECT next_index FROM atna_feed_cursors WHERE repository = $1 AND origin = $2",
                            "127.0.0.1:" + std::to_string(port), kOrigin)[0]
                .as<long long>(),
            committedSize(f.db.uri()));
}

TEST_F(AtnaFeedTest, TwoProcessesOnOneDatabaseNeverSendTheSameEntryTwice) {
  const Credential repoCert = repositoryCert(f.pki);
  Rsyslog repo(repoDir.path(), f.pki.chainPem(repoCert), repoCert.keyPem(), f.pki.root.certPem());
  ASSERT_TRUE(repo.start()) << repo.output();
  configureFeed(repo.port());
  f.config["atna.batchSize"] = "5";  // many small batches: the two feeds take turns on the cursor
  f.writeConfig();
  f.migrate();
  f.addOrg(kLakeside, "Lakeside Clinic");
  NodeProcess& first = f.start();
  NodeProcess second({"serve", "--config", f.configPath}, {}, f.dir.path() + "/second.log");
  ASSERT_TRUE(second.waitUntilListening()) << second.log();
  std::atomic<bool> loading{true};
  auto load = [&](int port) {
    while (loading) tlsGet(port, f.pki.root, f.as(member), "/fhir/metadata");
  };
  std::thread a(load, first.port()), b(load, second.port());
  const bool grown = waitFor([&] { return committedSize(f.db.uri()) > 300; }, std::chrono::seconds(60));
  loading = false;
  a.join();
  b.join();
  ASSERT_TRUE(grown);
  ASSERT_TRUE(waitFor([&] { return allReceived(repo, f.db.uri()); }, std::chrono::seconds(60)))
      << first.log() << second.log();
  EXPECT_GT(first.counter("hie_atna_messages_sent_total"), 0u);
  EXPECT_GT(second.counter("hie_atna_messages_sent_total"), 0u);
  std::set<long long> seen;
  for (const auto& r : parseReceived(repo.received())) {
    EXPECT_TRUE(seen.insert(r.index).second) << "sent twice: " << r.line;
  }
  second.stop();
}

TEST_F(AtnaFeedTest, ARepositoryWithAForeignCertificateGetsNothing) {
  const TestPki foreign = TestPki::create();
  const Credential repoCert = repositoryCert(foreign);
  // It would accept the node as a client; the node must refuse it.
  Rsyslog repo(repoDir.path(), foreign.chainPem(repoCert), repoCert.keyPem(), f.pki.root.certPem());
  ASSERT_TRUE(repo.start()) << repo.output();
  configureFeed(repo.port());
  f.migrate();
  f.addOrg(kLakeside, "Lakeside Clinic");
  NodeProcess& node = f.start();
  for (int i = 0; i < 5; ++i) request();
  EXPECT_TRUE(waitFor([&] { return node.counter("hie_atna_failures_total{kind=\"transport\"}") >= 2; },
                      std::chrono::seconds(20)))
      << node.metrics();
  EXPECT_TRUE(waitFor([&] { return backlogGauge(node) >= 5; }, std::chrono::seconds(10))) << node.metrics();
  EXPECT_EQ(node.counter("hie_atna_messages_sent_total"), 0u);
  EXPECT_EQ(repo.received(), "");
  EXPECT_TRUE(contains(node.log(), "certificate")) << node.log();
}

TEST_F(AtnaFeedTest, ARepositoryWithoutTheConfiguredNameGetsNothing) {
  const Credential repoCert = repositoryCert(f.pki);  // localhost and 127.0.0.1, from the network's CA
  Rsyslog repo(repoDir.path(), f.pki.chainPem(repoCert), repoCert.keyPem(), f.pki.root.certPem());
  ASSERT_TRUE(repo.start()) << repo.output();
  configureFeed(repo.port());
  f.config["atna.serverName"] = "audit.example.org";
  f.writeConfig();
  f.migrate();
  f.addOrg(kLakeside, "Lakeside Clinic");
  NodeProcess& node = f.start();
  for (int i = 0; i < 3; ++i) request();
  EXPECT_TRUE(waitFor([&] { return node.counter("hie_atna_failures_total{kind=\"transport\"}") >= 2; },
                      std::chrono::seconds(20)))
      << node.metrics();
  EXPECT_EQ(node.counter("hie_atna_messages_sent_total"), 0u);
  EXPECT_EQ(repo.received(), "");
  EXPECT_TRUE(contains(node.log(), "hostname mismatch")) << node.log();
}

TEST_F(AtnaFeedTest, TheNodeStopsAtOnceWhileTheRepositoryHangsMidHandshake) {
  // A repository that takes the TCP connection (the kernel does) and never says a word.
  const int silent = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(silent, 16), 0);
  socklen_t len = sizeof a;
  ::getsockname(silent, reinterpret_cast<sockaddr*>(&a), &len);
  configureFeed(ntohs(a.sin_port));
  f.config["atna.timeout"] = "60000";
  f.writeConfig();
  f.migrate();
  f.addOrg(kLakeside, "Lakeside Clinic");
  NodeProcess& node = f.start();
  request();
  // The feed is inside its handshake (a connection is queued on the silent socket) when the node stops.
  EXPECT_TRUE(waitFor([&] {
    pollfd p{silent, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
  }, std::chrono::seconds(10)));
  EXPECT_EQ(node.stop(std::chrono::seconds(10)), 0) << node.log();  // -1 would be SIGKILL after 10 s
  EXPECT_TRUE(contains(node.log(), "stopped")) << node.log();
  ::close(silent);
}

TEST_F(AtnaFeedTest, ServeRefusesATrustBundleWithoutACertificate) {
  writeFile(f.dir.path(), "not-a-bundle.pem", "no certificate here\n");
  configureFeed(6514);
  f.config["atna.trustBundle"] = "not-a-bundle.pem";
  f.writeConfig();
  f.migrate();
  auto r = runNode({"serve", "--config", f.configPath}, {}, std::chrono::seconds(30));
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "atna.trustBundle " + f.dir.path() + "/not-a-bundle.pem holds no readable PEM certificate"))
      << r.output;
}

TEST_F(AtnaFeedTest, FhirFormatSendsTheAuditEventJson) {
  const Credential repoCert = repositoryCert(f.pki);
  Rsyslog repo(repoDir.path(), f.pki.chainPem(repoCert), repoCert.keyPem(), f.pki.root.certPem());
  ASSERT_TRUE(repo.start()) << repo.output();
  configureFeed(repo.port(), "fhir");
  f.migrate();
  f.addOrg(kLakeside, "Lakeside Clinic");
  NodeProcess& node = f.start();
  for (int i = 0; i < 3; ++i) request();
  ASSERT_TRUE(waitFor([&] { return allReceived(repo, f.db.uri()); }, std::chrono::seconds(30)))
      << repo.received() << node.log();
  for (const auto& r : parseReceived(repo.received())) {
    ASSERT_NE(r.line.find(" IHE+FHIR [hie-audit@32473 "), std::string::npos) << r.line;
    Poco::JSON::Parser parser;
    auto event = parser.parse(r.line.substr(r.line.find("] {") + 2)).extract<Poco::JSON::Object::Ptr>();
    EXPECT_EQ(event->getValue<std::string>("resourceType"), "AuditEvent");
    EXPECT_EQ(r.leafHash.substr(0, 32), event->getValue<std::string>("id"));
  }
}

}  // namespace
}  // namespace hie::testing

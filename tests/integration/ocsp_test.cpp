// OCSP for client certificates against `openssl ocsp` run as a responder on
// loopback: require refuses revoked and unverifiable clients, prefer admits
// the unverifiable ones; answers are cached until their nextUpdate.
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <ctime>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/support/node_fixture.h"

extern char** environ;

namespace hie::testing {
namespace {

const std::string kLakeside = "urn:oid:2.16.840.1.113883.3.7001";

int freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string indexTime(long offsetSeconds) {
  std::time_t t = std::time(nullptr) + offsetSeconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%y%m%d%H%M%SZ", &tm);
  return buf;
}

// `openssl ocsp` as a responder, stopped by the destructor.
class OcspResponder {
 public:
  OcspResponder(const std::string& dir, int port) {
    const std::string p = std::to_string(port);
    std::vector<std::string> args{"openssl", "ocsp", "-index", dir + "/index.txt", "-port", p, "-rsigner",
                                  dir + "/ocsp.crt", "-rkey", dir + "/ocsp.key", "-CA", dir + "/intermediate.crt",
                                  "-ndays", "1", "-nrequest", "200", "-ignore_err"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, (dir + "/ocsp.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    if (posix_spawnp(&pid_, "openssl", &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    port_ = port;
    logPath_ = dir + "/ocsp.log";
  }
  ~OcspResponder() { stop(); }
  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  // Ready once it says so (a probe connection would occupy the single-threaded responder).
  bool listening() const {
    std::ifstream log(logPath_);
    std::stringstream text;
    text << log.rdbuf();
    return text.str().find("waiting for OCSP client connections") != std::string::npos;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string logPath_;
};

class Ocsp : public ::testing::Test {
 protected:
  void SetUp() override {
    port = freePort();
    const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
    CertSpec responder;
    responder.commonName = "ocsp responder";
    responder.extendedKeyUsage = {"OCSPSigning"};
    Credential ocsp = f.pki.leaf(responder);
    writeFile(f.dir.path(), "ocsp.crt", ocsp.certPem());
    writeFile(f.dir.path(), "ocsp.key", ocsp.keyPem());
    writeFile(f.dir.path(), "intermediate.crt", f.pki.intermediate.certPem());
    CertSpec member;
    member.sanUris = {kLakeside};
    member.extendedKeyUsage = {"clientAuth"};
    member.ocspUrl = url;
    member.commonName = "good";
    good = f.pki.leaf(member);
    member.commonName = "revoked";
    revoked = f.pki.leaf(member);
    member.commonName = "later";
    later = f.pki.leaf(member);
    const std::string exp = indexTime(30L * 86400);
    writeFile(f.dir.path(), "index.txt",
              "V\t" + exp + "\t\t" + good.serialHex() + "\tunknown\t/CN=good\n" +
              "R\t" + exp + "\t" + indexTime(-3600) + "\t" + revoked.serialHex() + "\tunknown\t/CN=revoked\n" +
              "V\t" + exp + "\t\t" + later.serialHex() + "\tunknown\t/CN=later\n");
    f.migrate();
    f.addOrg(kLakeside, "Lakeside Clinic");
  }
  int port = 0;
  NodeFixture f;
  Credential good, revoked, later;
};

TEST_F(Ocsp, RequireRefusesRevokedAndUnverifiableClients) {
  OcspResponder responder(f.dir.path(), port);
  ASSERT_TRUE(waitFor([&] { return responder.listening(); }, std::chrono::seconds(10)));
  f.config["tls.ocsp"] = "require";
  f.writeConfig();
  f.start();
  EXPECT_EQ(f.get(good).status, 200) << f.node()->log();
  EXPECT_TRUE(f.get(revoked).tlsRefused) << f.node()->log();
  responder.stop();
  // The good answer is cached until its nextUpdate; a certificate never asked about cannot be checked.
  EXPECT_EQ(f.get(good).status, 200) << f.node()->log();
  EXPECT_TRUE(f.get(later).tlsRefused) << f.node()->log();
  // The node counts a refusal a moment after the client sees it.
  EXPECT_TRUE(waitFor([&] { return f.node()->counter("hie_tls_handshake_failures_total{reason=\"ocsp_unavailable\"}") == 1; },
                      std::chrono::seconds(5)))
      << f.node()->metrics();
  EXPECT_EQ(f.node()->counter("hie_tls_handshake_failures_total{reason=\"certificate_revoked_ocsp\"}"), 1u)
      << f.node()->metrics();
}

TEST_F(Ocsp, PreferAdmitsWhenTheResponderIsDownButStillRefusesRevoked) {
  OcspResponder responder(f.dir.path(), port);
  ASSERT_TRUE(waitFor([&] { return responder.listening(); }, std::chrono::seconds(10)));
  f.config["tls.ocsp"] = "prefer";
  f.config["tls.ocspTimeout"] = "500";
  f.writeConfig();
  f.start();
  EXPECT_TRUE(f.get(revoked).tlsRefused);
  responder.stop();
  EXPECT_EQ(f.get(later).status, 200) << f.node()->log();
}

TEST_F(Ocsp, OffIgnoresTheResponder) {
  f.start();  // tls.ocsp defaults to off: no responder runs, and every client is admitted
  EXPECT_EQ(f.get(revoked).status, 200);
}

}  // namespace
}  // namespace hie::testing

#include "tests/support/private_cluster.h"

#include <pthread.h>
#include <signal.h>

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>

namespace hie::testing {
namespace {

const char* const kBin = "/usr/lib/postgresql/15/bin";

// As root the server runs as postgres (initdb refuses root), else as ourselves.
std::string asOwner(const std::string& command) {
  if (::geteuid() != 0) return command;
  return "runuser -u postgres -- " + command;
}

}  // namespace

PrivateCluster::PrivateCluster() {
  char tmpl[] = "/tmp/hie-pc.XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  if (::geteuid() == 0) {
    const passwd* pg = ::getpwnam("postgres");
    if (pg == nullptr || ::chown(dir_.c_str(), pg->pw_uid, pg->pw_gid) != 0) {
      throw std::runtime_error("cannot hand " + dir_ + " to the postgres user");
    }
  }
  std::random_device rd;
  port_ = std::to_string(20000 + rd() % 40000);
  run(asOwner(std::string(kBin) + "/initdb -D " + dir_ + "/data -U postgres -A trust -E UTF8 --locale=C --no-sync"),
      "initdb");
  {
    std::ofstream conf(dir_ + "/data/postgresql.conf", std::ios::app);
    conf << "listen_addresses = ''\nunix_socket_directories = '" << dir_ << "'\nport = " << port_ << "\n";
  }
  start();
}

PrivateCluster::~PrivateCluster() {
  if (running_) {
    std::system((asOwner(std::string(kBin) + "/pg_ctl -D " + dir_ + "/data -m immediate -w -t 20 stop") +
                 " >/dev/null 2>&1")
                    .c_str());
  }
  if (dir_.compare(0, 12, "/tmp/hie-pc.") == 0) std::system(("rm -rf '" + dir_ + "'").c_str());
}

void PrivateCluster::run(const std::string& command, const std::string& what) const {
  const std::string full = "cd / && " + command + " >>'" + dir_ + "/commands.log' 2>&1";
  if (std::system(full.c_str()) != 0) {
    std::ifstream log(dir_ + "/commands.log");
    std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    std::ifstream server(dir_ + "/server.log");
    std::string serverText((std::istreambuf_iterator<char>(server)), std::istreambuf_iterator<char>());
    throw std::runtime_error(what + " failed:\n" + text + serverText);
  }
}

void PrivateCluster::start() {
  run(asOwner(std::string(kBin) + "/pg_ctl -D " + dir_ + "/data -l " + dir_ + "/server.log -w -t 30 start"),
      "pg_ctl start");
  running_ = true;
}

void PrivateCluster::stop() {
  run(asOwner(std::string(kBin) + "/pg_ctl -D " + dir_ + "/data -m fast -w -t 30 stop"), "pg_ctl stop");
  running_ = false;
}

void blockChildSignalsInThisThread() {
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &chld, nullptr);
}

}  // namespace hie::testing

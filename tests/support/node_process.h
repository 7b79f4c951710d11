// Runs the real hie-node binary: one-shot commands, and `serve` in the
// background with its output in a file, waited on by bounded polling.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace hie::testing {

struct CommandResult {
  int exitCode = -1;     // -1: killed by timeout
  std::string output;    // stdout and stderr together
};

// True when text contains part (outputs, logs and bodies in assertions).
inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Path of the hie-node binary under test (set at build time).
std::string nodeBinary();

// Runs hie-node with args and extra environment; kills it after timeout.
CommandResult runNode(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {},
                      std::chrono::seconds timeout = std::chrono::seconds(60));

// Runs any program (argv[0] its path) the same way; exit code 127 when it cannot be started.
CommandResult runProgram(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
                         std::chrono::seconds timeout = std::chrono::seconds(60));

// Polls cond every 20 ms until it holds or timeout passes; returns the last value.
bool waitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout);

class NodeProcess {
 public:
  NodeProcess(std::vector<std::string> args, std::map<std::string, std::string> env, std::string logPath);
  ~NodeProcess();
  NodeProcess(const NodeProcess&) = delete;
  NodeProcess& operator=(const NodeProcess&) = delete;

  // Waits for "listening on https://HOST:PORT"; false if it exited or timed out.
  bool waitUntilListening(std::chrono::seconds timeout = std::chrono::seconds(30));
  int port() const { return port_; }
  int adminPort() const { return adminPort_; }
  pid_t pid() const { return pid_; }  // -1 once it has exited
  std::string log() const;
  // GET /metrics on the admin listener; "" if it does not answer 200 within 5 s.
  std::string metrics() const;
  // The value of one counter series on /metrics, named as it appears there, e.g.
  // hie_tls_reloads_total or hie_refusals_total{stage="identity",reason="no_grant"};
  // 0 while the series is absent (never counted) or the listener does not answer.
  std::uint64_t counter(const std::string& series) const;
  bool running();
  // SIGTERM, then SIGKILL after timeout; returns the exit status (-1 if killed).
  int stop(std::chrono::seconds timeout = std::chrono::seconds(15));
  // Sends a signal (e.g. SIGHUP) to the running process.
  void signal(int sig);
  // Waits for the process to exit by itself; returns its status or -1 on timeout.
  int waitExit(std::chrono::seconds timeout);

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  int port_ = 0;
  int adminPort_ = 0;
  std::string logPath_;
};

}  // namespace hie::testing

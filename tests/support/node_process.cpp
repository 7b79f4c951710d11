#include "tests/support/node_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include "tests/support/test_pki.h"

#ifndef HIE_NODE_BINARY
#error "HIE_NODE_BINARY must be defined by the build"
#endif

namespace hie::testing {
namespace {

// argv[0] is the program's path.
pid_t spawnProgram(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                   const std::string& outputPath) {
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // The node dies with the test process, even when the test is killed.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    int fd = ::open(outputPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || devnull < 0) _exit(127);
    ::dup2(devnull, 0);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    ::execv(cargv[0], cargv.data());
    _exit(127);
  }
  return pid;
}

pid_t spawn(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
            const std::string& outputPath) {
  std::vector<std::string> argv{nodeBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return spawnProgram(argv, env, outputPath);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int decode(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

}  // namespace

std::string nodeBinary() { return HIE_NODE_BINARY; }

bool waitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

CommandResult runNode(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                      std::chrono::seconds timeout) {
  std::vector<std::string> argv{nodeBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return runProgram(argv, env, timeout);
}

CommandResult runProgram(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                         std::chrono::seconds timeout) {
  TempDir dir;
  const std::string out = dir.path() + "/output";
  pid_t pid = spawnProgram(argv, env, out);
  CommandResult result;
  int status = 0;
  bool done = waitFor([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, timeout);
  if (!done) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    result.exitCode = -1;
  } else {
    result.exitCode = decode(status);
  }
  result.output = slurp(out);
  return result;
}

NodeProcess::NodeProcess(std::vector<std::string> args, std::map<std::string, std::string> env, std::string logPath)
    : logPath_(std::move(logPath)) {
  pid_ = spawn(args, env, logPath_);
}

NodeProcess::~NodeProcess() { stop(); }

std::string NodeProcess::log() const { return slurp(logPath_); }

std::string NodeProcess::metrics() const {
  if (adminPort_ == 0) return "";
  try {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(adminPort_));
    session.setTimeout(Poco::Timespan(5, 0));
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/metrics", Poco::Net::HTTPMessage::HTTP_1_1);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::string body;
    Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
    return response.getStatus() == Poco::Net::HTTPResponse::HTTP_OK ? body : "";
  } catch (const Poco::Exception&) {
    return "";  // the node has stopped, or not yet started its admin listener
  }
}

std::uint64_t NodeProcess::counter(const std::string& series) const {
  const std::string text = "\n" + metrics();
  const std::string key = "\n" + series + " ";
  const auto at = text.find(key);
  if (at == std::string::npos) return 0;
  return std::stoull(text.substr(at + key.size(), text.find('\n', at + key.size()) - at - key.size()));
}

bool NodeProcess::running() {
  if (pid_ < 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    status_ = decode(status);
    pid_ = -1;
    return false;
  }
  return true;
}

bool NodeProcess::waitUntilListening(std::chrono::seconds timeout) {
  static const std::regex kListening(R"(listening on https://[^\s:]+:(\d+))");
  static const std::regex kAdmin(R"(admin listening on http://[^\s:]+:(\d+))");
  bool found = waitFor(
      [&] {
        std::smatch m;
        const std::string text = log();
        if (std::regex_search(text, m, kListening)) {
          port_ = std::stoi(m[1]);
          if (std::regex_search(text, m, kAdmin)) adminPort_ = std::stoi(m[1]);
          return true;
        }
        return !running();
      },
      timeout);
  return found && port_ != 0;
}

void NodeProcess::signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

int NodeProcess::waitExit(std::chrono::seconds timeout) {
  if (!waitFor([&] { return !running(); }, timeout)) return -1;
  return status_;
}

int NodeProcess::stop(std::chrono::seconds timeout) {
  if (!running()) return status_;
  ::kill(pid_, SIGTERM);
  if (waitExit(timeout) >= 0) return status_;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  status_ = -1;
  return -1;
}

}  // namespace hie::testing

// A PostgreSQL cluster of one test's own, for tests that stop and restart the
// database (the shared throwaway cluster must stay up for parallel tests).
#pragma once

#include <string>

namespace hie::testing {

class PrivateCluster {
 public:
  PrivateCluster();   // initdb + start; throws with the server log on failure
  ~PrivateCluster();  // stop (immediate) and remove everything
  PrivateCluster(const PrivateCluster&) = delete;
  PrivateCluster& operator=(const PrivateCluster&) = delete;

  const std::string& host() const { return dir_; }
  const std::string& port() const { return port_; }
  void stop();   // fast shutdown; connections are cut
  void start();

 private:
  void run(const std::string& command, const std::string& what) const;
  std::string dir_;
  std::string port_;
  bool running_ = false;
};

// For a client thread of a test that stops and starts a PrivateCluster: PrivateCluster runs pg_ctl
// through std::system(), which blocks SIGCHLD in its own thread, so the child's SIGCHLD lands in
// another thread, where a socket read with a timeout then fails (EINTR). Blocks it in this thread.
void blockChildSignalsInThisThread();

}  // namespace hie::testing

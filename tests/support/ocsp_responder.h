// A scriptable OCSP responder on 127.0.0.1 for tests: answers for the
// certificates it is told about with the status set at the time of the
// request, signed by an authorized responder certificate, with a nextUpdate
// the test chooses (so that answers can run out within a test).
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "tests/support/test_pki.h"

namespace hie::testing {

class TestOcspResponder {
 public:
  // signer: a leaf with EKU OCSPSigning, issued by the CA whose certificates it answers for.
  explicit TestOcspResponder(const Credential& signer);
  ~TestOcspResponder();
  TestOcspResponder(const TestOcspResponder&) = delete;
  TestOcspResponder& operator=(const TestOcspResponder&) = delete;

  std::string url() const;  // http://127.0.0.1:PORT/
  // Answers `good` or `revoked` for cert from now on; certificates never set are `unknown`.
  void setRevoked(const Credential& cert, bool revoked);
  // nextUpdate of the answers from now on, relative to the time of each answer (> 0 seconds).
  void setNextUpdateIn(long seconds);
  int answered() const { return answered_; }  // requests answered so far

 private:
  void serve();
  std::string answer(const std::string& requestDer);

  Credential signer_;
  int listenFd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> answered_{0};
  std::mutex mutex_;
  std::map<std::string, bool> revoked_;  // by serial (hex)
  long nextUpdateIn_ = 3600;
  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace hie::testing

// The admin listener: plain HTTP on admin.host (default 127.0.0.1), for
// load balancers and monitoring only — never patient data.
//   GET /healthz  200 while the process runs
//   GET /readyz   200 when the database answers, the audit writer keeps up
//                 and the TLS material is valid; else 503 with the reasons
//   GET /metrics  Prometheus text format
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/counters.h"
#include "common/result.h"
#include "exchange/http/prometheus_text.h"  // the gauges escape their labels with it too

namespace Poco::Net {
class HTTPServer;
}

namespace hie::exchange {

struct Readiness {
  bool ready = true;
  std::vector<std::string> problems;
};

// What the admin endpoints read; each function must be cheap and thread-safe.
struct AdminSources {
  std::function<Readiness()> readiness;
  // Extra gauge lines in Prometheus text format (with their # TYPE lines).
  std::function<std::string()> gauges;
};

class AdminServer {
 public:
  AdminServer(std::string host, std::uint16_t port, const Counters& counters, AdminSources sources);
  ~AdminServer();
  Result<std::uint16_t> start();
  void stop();

 private:
  std::string host_;
  std::uint16_t port_;
  const Counters& counters_;
  AdminSources sources_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

}  // namespace hie::exchange

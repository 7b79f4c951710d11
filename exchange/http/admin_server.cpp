#include "exchange/http/admin_server.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>

namespace hie::exchange {
namespace {

class AdminHandler : public Poco::Net::HTTPRequestHandler {
 public:
  AdminHandler(const Counters& counters, const AdminSources& sources) : counters_(counters), sources_(sources) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
    std::string body;
    auto status = Poco::Net::HTTPResponse::HTTP_OK;
    const std::string path = request.getURI().substr(0, request.getURI().find('?'));
    response.setContentType("text/plain; charset=utf-8");
    if (request.getMethod() != "GET") {
      status = Poco::Net::HTTPResponse::HTTP_METHOD_NOT_ALLOWED;
      body = "only GET\n";
    } else if (path == "/healthz") {
      body = "ok\n";
    } else if (path == "/readyz") {
      const Readiness r = sources_.readiness ? sources_.readiness() : Readiness{};
      if (!r.ready) status = Poco::Net::HTTPResponse::HTTP_SERVICE_UNAVAILABLE;
      body = r.ready ? "ready\n" : "not ready\n";
      for (const auto& p : r.problems) body += "- " + p + "\n";
    } else if (path == "/metrics") {
      response.setContentType("text/plain; version=0.0.4; charset=utf-8");
      body = prometheusCounters(counters_) + (sources_.gauges ? sources_.gauges() : "");
    } else {
      status = Poco::Net::HTTPResponse::HTTP_NOT_FOUND;
      body = "not found\n";
    }
    response.setStatusAndReason(status);
    response.set("Cache-Control", "no-store");
    response.setContentLength(static_cast<std::streamsize>(body.size()));
    response.send() << body;
  }

 private:
  const Counters& counters_;
  const AdminSources& sources_;
};

class AdminFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  AdminFactory(const Counters& counters, const AdminSources& sources) : counters_(counters), sources_(sources) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new AdminHandler(counters_, sources_);
  }

 private:
  const Counters& counters_;
  const AdminSources& sources_;
};

}  // namespace

AdminServer::AdminServer(std::string host, std::uint16_t port, const Counters& counters, AdminSources sources)
    : host_(std::move(host)), port_(port), counters_(counters), sources_(std::move(sources)) {}

AdminServer::~AdminServer() { stop(); }

Result<std::uint16_t> AdminServer::start() {
  try {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress(host_, port_), 16);
    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(2);
    params->setMaxQueued(16);
    params->setTimeout(Poco::Timespan(5, 0));
    params->setKeepAlive(false);
    const std::uint16_t bound = socket.address().port();
    server_ = std::make_unique<Poco::Net::HTTPServer>(new AdminFactory(counters_, sources_), socket, params);
    server_->start();
    return bound;
  } catch (const Poco::Exception& e) {
    return fail(ErrorCode::kUnavailable,
                "cannot listen on admin " + host_ + ":" + std::to_string(port_) + ": " + e.displayText());
  }
}

void AdminServer::stop() {
  if (!server_) return;
  server_->stopAll(true);
  server_.reset();
}

}  // namespace hie::exchange

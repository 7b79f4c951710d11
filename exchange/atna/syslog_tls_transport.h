// RFC 5425 syslog over TLS to one audit record repository: a connection per batch, mutual TLS with
// the node's own certificate (the current TLS material, so a reload is used from the next batch),
// the repository's chain verified against atna.trustBundle and its name (atna.serverName: a DNS
// name, or an IP address matched against the certificate's IP addresses) checked inside OpenSSL's
// verification; anything else fails closed. A batch counts as delivered when, after its last frame
// and this side's close_notify, the repository closed the connection cleanly (its close_notify; a
// bare TCP close is a failure): it read every frame.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "auth/tls/tls_material.h"
#include "common/ossl.h"
#include "exchange/atna/atna_feed.h"

namespace hie::exchange {

struct SyslogTlsOptions {
  std::string host;
  std::uint16_t port = 6514;
  std::string serverName;   // the name the repository's certificate must carry; "" = host
  std::string trustBundle;  // PEM trust anchors for the repository's certificate
  std::chrono::milliseconds timeout{5000};  // connect, and each read or write; the whole delivery: deliveryBudget()
};

// The most one delivery may take, from its start to the repository's close: 3 × timeout, plus one
// timeout per MiB of the batch (docs/operations.md "ATNA feed").
std::chrono::milliseconds deliveryBudget(std::chrono::milliseconds timeout, std::size_t bytes);

class SyslogTlsTransport : public SyslogTransport {
 public:
  using MaterialSource = std::function<std::shared_ptr<const auth::TlsMaterial>()>;
  // kInvalidInput when the trust bundle holds no certificate or cannot be read.
  static Result<std::unique_ptr<SyslogTlsTransport>> create(SyslogTlsOptions options, MaterialSource material);

  ~SyslogTlsTransport() override;
  SyslogTlsTransport(const SyslogTlsTransport&) = delete;
  SyslogTlsTransport& operator=(const SyslogTlsTransport&) = delete;

  Result<void> deliver(const std::vector<std::string>& frames) override;
  // Cuts the connect (wakes its poll), handshake, write or close wait under way, and every later delivery.
  void cancel() override;

 private:
  SyslogTlsTransport(SyslogTlsOptions options, MaterialSource material, ossl::UniquePtr<X509_STORE> anchors);

  SyslogTlsOptions options_;
  MaterialSource material_;
  ossl::UniquePtr<X509_STORE> anchors_;
  std::mutex mutex_;  // guards activeFd_ and cancelled_
  int activeFd_ = -1;  // the socket of the delivery under way
  bool cancelled_ = false;
  int wakeFd_ = -1;  // an eventfd, readable once cancel() ran: wakes a connect's poll
};

}  // namespace hie::exchange

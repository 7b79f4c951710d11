#include "tests/support/ocsp_responder.h"
#include "tests/support/loopback_listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ocsp.h>

#include <cctype>
#include <cstdlib>
#include <stdexcept>

namespace hie::testing {
namespace {

std::string serialHexOf(const ASN1_INTEGER* serial) {
  ossl::UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(serial, nullptr));
  char* hex = bn ? BN_bn2hex(bn.get()) : nullptr;
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  return out;
}

std::string serialHexOf(const Credential& cert) { return serialHexOf(X509_get0_serialNumber(cert.cert())); }

ossl::UniquePtr<ASN1_STRING> timeIn(long seconds) { return ossl::UniquePtr<ASN1_STRING>(X509_gmtime_adj(nullptr, seconds)); }

}  // namespace

TestOcspResponder::TestOcspResponder(const Credential& signer) : signer_(signer) {
  const LoopbackListener listener = listenOnLoopback(16, "the test OCSP responder");
  listenFd_ = listener.fd;
  port_ = listener.port;
  thread_ = std::thread([this] { serve(); });
}

TestOcspResponder::~TestOcspResponder() {
  stop_ = true;
  thread_.join();
  ::close(listenFd_);
}

std::string TestOcspResponder::url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }

void TestOcspResponder::setRevoked(const Credential& cert, bool revoked) {
  std::lock_guard<std::mutex> lock(mutex_);
  revoked_[serialHexOf(cert)] = revoked;
}

void TestOcspResponder::setNextUpdateIn(long seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  nextUpdateIn_ = seconds;
}

void TestOcspResponder::serve() {
  while (!stop_) {
    pollfd p{listenFd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept(listenFd_, nullptr, nullptr);
    if (fd < 0) continue;
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    std::string in;
    char buf[4096];
    std::size_t need = std::string::npos;
    while (in.size() < need && in.size() < 65536) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      in.append(buf, static_cast<std::size_t>(n));
      const auto split = in.find("\r\n\r\n");
      if (need == std::string::npos && split != std::string::npos) {
        std::string head = in.substr(0, split);
        for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const auto at = head.find("content-length:");
        need = split + 4 + (at == std::string::npos ? 0 : std::strtoul(head.c_str() + at + 15, nullptr, 10));
      }
    }
    const auto split = in.find("\r\n\r\n");
    if (need != std::string::npos && in.size() >= need && split != std::string::npos) {
      const std::string der = answer(in.substr(split + 4, need - split - 4));
      const std::string reply = "HTTP/1.0 200 OK\r\nContent-Type: application/ocsp-response\r\nContent-Length: " +
                                std::to_string(der.size()) + "\r\nConnection: close\r\n\r\n" + der;
      ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
      ++answered_;
    }
    ::close(fd);
  }
}

std::string TestOcspResponder::answer(const std::string& requestDer) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(requestDer.data());
  ossl::UniquePtr<OCSP_REQUEST> request(d2i_OCSP_REQUEST(nullptr, &cursor, static_cast<long>(requestDer.size())));
  ossl::UniquePtr<OCSP_RESPONSE> response;
  if (!request) {
    response.reset(OCSP_response_create(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, nullptr));
  } else {
    ossl::UniquePtr<OCSP_BASICRESP> basic(OCSP_BASICRESP_new());
    std::map<std::string, bool> revoked;
    long nextUpdateIn = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      revoked = revoked_;
      nextUpdateIn = nextUpdateIn_;
    }
    const auto thisUpdate = timeIn(-60);
    const auto nextUpdate = timeIn(nextUpdateIn);
    const auto revokedAt = timeIn(-3600);
    for (int i = 0; i < OCSP_request_onereq_count(request.get()); ++i) {
      OCSP_CERTID* id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(request.get(), i));
      ASN1_INTEGER* serial = nullptr;
      OCSP_id_get0_info(nullptr, nullptr, nullptr, &serial, id);
      const auto it = revoked.find(serial != nullptr ? serialHexOf(serial) : "");
      const int status = it == revoked.end() ? V_OCSP_CERTSTATUS_UNKNOWN
                         : it->second        ? V_OCSP_CERTSTATUS_REVOKED
                                             : V_OCSP_CERTSTATUS_GOOD;
      OCSP_basic_add1_status(basic.get(), id, status, OCSP_REVOKED_STATUS_UNSPECIFIED,
                             status == V_OCSP_CERTSTATUS_REVOKED ? revokedAt.get() : nullptr, thisUpdate.get(),
                             nextUpdate.get());
    }
    if (OCSP_basic_sign(basic.get(), signer_.cert(), signer_.key(), EVP_sha256(), nullptr, 0) != 1) {
      response.reset(OCSP_response_create(OCSP_RESPONSE_STATUS_INTERNALERROR, nullptr));
    } else {
      response.reset(OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get()));
    }
  }
  unsigned char* der = nullptr;
  const int len = response ? i2d_OCSP_RESPONSE(response.get(), &der) : 0;
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len > 0 ? len : 0));
  OPENSSL_free(der);
  return out;
}

}  // namespace hie::testing

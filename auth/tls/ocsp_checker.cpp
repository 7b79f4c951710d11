#include "auth/tls/ocsp_checker.h"

#include <ctime>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <spdlog/spdlog.h>

#include "common/ossl.h"

namespace hie::auth {
namespace {

int contextIndex() {
  static const int kIndex = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return kIndex;
}

int verificationIndex() {
  static const int kIndex = X509_STORE_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return kIndex;
}

}  // namespace

OcspChecker::OcspChecker(OcspMode mode, std::chrono::milliseconds timeout, Counters& counters)
    : mode_(mode), timeout_(timeout), counters_(counters) {}

void OcspChecker::attachTo(SSL_CTX* serverContext) {
  serverContext_ = serverContext;
  SSL_CTX_set_ex_data(serverContext, contextIndex(), this);
}

void OcspChecker::attachTo(X509_STORE_CTX* verification) {
  X509_STORE_CTX_set_ex_data(verification, verificationIndex(), this);
}

OcspChecker* OcspChecker::of(SSL* ssl) {
  return static_cast<OcspChecker*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), contextIndex()));
}

OcspChecker* OcspChecker::of(X509_STORE_CTX* verification) {
  if (auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(verification, SSL_get_ex_data_X509_STORE_CTX_idx()))) {
    return of(ssl);
  }
  return static_cast<OcspChecker*>(X509_STORE_CTX_get_ex_data(verification, verificationIndex()));
}

OcspChecker::Status OcspChecker::check(X509* leaf, X509* issuer, X509_STORE* store, STACK_OF(X509) * chain,
                                       std::string& detail) {
  const Status unknown{Verdict::kUnknown, kNoLimit};
  ossl::StringList urls(X509_get1_ocsp(leaf));
  if (!urls || sk_OPENSSL_STRING_num(urls.get()) == 0) {
    detail = "the certificate names no OCSP responder";
    return Status{Verdict::kGood, kNoLimit};  // OCSP applies where the certificate names a responder; CRLs still apply
  }
  if (issuer == nullptr) {
    detail = "no issuer to build the OCSP request";
    return unknown;
  }
  ossl::UniquePtr<OCSP_CERTID> id(OCSP_cert_to_id(nullptr, leaf, issuer));
  if (!id) {
    detail = "cannot build an OCSP CertID: " + ossl::drainErrors();
    return unknown;
  }
  unsigned char* der = nullptr;
  const int derLength = i2d_OCSP_CERTID(id.get(), &der);  // sets der: a statement of its own
  const std::string key = ossl::takeDer(der, derLength);
  const std::int64_t now = std::time(nullptr);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second.nextUpdate > now) {
      counters_.ocspCacheHits.inc();
      detail = "cached OCSP answer";
      return Status{it->second.verdict, it->second.nextUpdate};
    }
  }

  const std::string url = sk_OPENSSL_STRING_value(urls.get(), 0);
  char* host = nullptr;
  char* port = nullptr;
  char* path = nullptr;
  int useTls = 0;
  if (OCSP_parse_url(url.c_str(), &host, &port, &path, &useTls) != 1) {
    detail = "unusable OCSP responder URL";
    ossl::drainErrors();
    return unknown;
  }
  const ossl::Buffer<char> ownedHost(host), ownedPort(port), ownedPath(path);
  const std::string h = host, p = port, pathText = path;
  if (useTls != 0) {
    detail = "https OCSP responders are not supported (OCSP answers are signed; use http)";
    return unknown;
  }

  ossl::UniquePtr<OCSP_REQUEST> request(OCSP_REQUEST_new());
  OCSP_request_add0_id(request.get(), OCSP_CERTID_dup(id.get()));
  unsigned char* reqDer = nullptr;
  const int reqLength = i2d_OCSP_REQUEST(request.get(), &reqDer);
  const std::string requestBody = ossl::takeDer(reqDer, reqLength);

  std::string responseBody;
  try {
    Poco::Net::HTTPClientSession session(h, static_cast<Poco::UInt16>(std::stoi(p)));
    session.setTimeout(Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(timeout_.count()) * 1000));
    Poco::Net::HTTPRequest post(Poco::Net::HTTPRequest::HTTP_POST, pathText, Poco::Net::HTTPMessage::HTTP_1_1);
    post.setContentType("application/ocsp-request");
    post.setContentLength(static_cast<std::streamsize>(requestBody.size()));
    session.sendRequest(post) << requestBody;
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    Poco::StreamCopier::copyToString(in, responseBody, 65536);
    if (response.getStatus() != Poco::Net::HTTPResponse::HTTP_OK) {
      detail = "OCSP responder answered HTTP " + std::to_string(response.getStatus());
      counters_.ocspUnavailable.inc();
      return unknown;
    }
  } catch (const std::exception& e) {
    detail = std::string("OCSP responder unreachable: ") + e.what();
    counters_.ocspUnavailable.inc();
    return unknown;
  }

  const unsigned char* cursor = reinterpret_cast<const unsigned char*>(responseBody.data());
  ossl::UniquePtr<OCSP_RESPONSE> response(d2i_OCSP_RESPONSE(nullptr, &cursor, static_cast<long>(responseBody.size())));
  if (!response || OCSP_response_status(response.get()) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    detail = "the OCSP responder did not answer successfully";
    ossl::drainErrors();
    return unknown;
  }
  ossl::UniquePtr<OCSP_BASICRESP> basic(OCSP_response_get1_basic(response.get()));
  // The answer must be signed by the issuer or a responder it authorised, chaining to our anchors.
  if (!basic || OCSP_basic_verify(basic.get(), chain, store, 0) != 1) {
    detail = "the OCSP answer's signature does not verify: " + ossl::drainErrors();
    counters_.ocspBadResponses.inc();
    return unknown;
  }
  int status = 0, reason = 0;
  ASN1_GENERALIZEDTIME *revoked = nullptr, *thisUpdate = nullptr, *nextUpdate = nullptr;
  if (OCSP_resp_find_status(basic.get(), id.get(), &status, &reason, &revoked, &thisUpdate, &nextUpdate) != 1 ||
      OCSP_check_validity(thisUpdate, nextUpdate, 300, -1) != 1) {
    detail = "the OCSP answer does not cover this certificate or is out of date";
    ossl::drainErrors();
    return unknown;
  }
  const Verdict verdict = status == V_OCSP_CERTSTATUS_GOOD      ? Verdict::kGood
                          : status == V_OCSP_CERTSTATUS_REVOKED ? Verdict::kRevoked
                                                                : Verdict::kUnknown;
  detail = verdict == Verdict::kGood ? "OCSP: good" : verdict == Verdict::kRevoked ? "OCSP: revoked" : "OCSP: unknown";
  (verdict == Verdict::kGood ? counters_.ocspAnswersGood : verdict == Verdict::kRevoked ? counters_.ocspAnswersRevoked : counters_.ocspAnswersUnknown).inc();
  if (verdict == Verdict::kUnknown) return unknown;
  // Without a nextUpdate the answer holds only now: cached (to compare the next answer with) but never served.
  const Status answer{verdict, nextUpdate != nullptr ? ossl::epochSeconds(nextUpdate).value_or(0) : now};
  bool newlyRevoked = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& cached = cache_[key];
    newlyRevoked = verdict == Verdict::kRevoked && cached.verdict != Verdict::kRevoked;
    cached = Cached{verdict, answer.validUntil};
  }
  if (newlyRevoked && serverContext_ != nullptr) {
    // A session made while the certificate stood must not be resumed now that it is revoked.
    SSL_CTX_flush_sessions(serverContext_, std::numeric_limits<long>::max());
    counters_.tlsSessionCacheFlushes.inc();
    spdlog::warn("OCSP: a client certificate is newly revoked; the TLS session cache was flushed");
  }
  return answer;
}

}  // namespace hie::auth

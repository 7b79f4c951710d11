#include "auth/tls/client_standing.h"

#include <algorithm>
#include <memory>
#include <new>

#include <openssl/err.h>

#include "auth/tls/expiry.h"
#include "auth/tls/handshake_verification.h"

namespace hie::auth {
namespace {

int contextIndex() {
  static const int kIndex = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return kIndex;
}

void freeStanding(void*, void* standing, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<ClientStanding*>(standing);
}

// The standing the connection's completed handshake recorded, until the listener takes it; freed with the SSL.
int completedIndex() {
  static const int kIndex = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, &freeStanding);
  return kIndex;
}

std::int64_t ocspValidUntil(const SSL* ssl) {
  const VerificationRecord* record = findVerificationRecord(ssl);
  return record != nullptr ? record->ocspValidUntil : OcspChecker::kNoLimit;
}

}  // namespace

std::int64_t verifiedUntil(STACK_OF(X509) * verifiedChain, const TlsMaterial& material, std::int64_t ocspValidUntil) {
  std::int64_t until = ocspValidUntil;
  for (int i = 0; i < sk_X509_num(verifiedChain); ++i) {
    X509* cert = sk_X509_value(verifiedChain, i);
    until = std::min(until, certificateNotAfter(cert));  // 0 (unreadable) = verify again every time
    for (std::size_t j = 0; j < material.crls.size() && j < material.crlInfo.size(); ++j) {
      if (material.crlInfo[j].nextUpdate != 0 &&
          X509_NAME_cmp(X509_CRL_get_issuer(material.crls[j].get()), X509_get_issuer_name(cert)) == 0) {
        until = std::min(until, material.crlInfo[j].nextUpdate);
      }
    }
  }
  return until;
}

ClientRecheck::ClientRecheck(const TlsMaterialStore& tls, OcspChecker* ocsp) : tls_(tls), ocsp_(ocsp) {}

void ClientRecheck::attachTo(SSL_CTX* serverContext) {
  serverContext_ = serverContext;
  SSL_CTX_set_ex_data(serverContext, contextIndex(), this);
  SSL_CTX_set_info_callback(serverContext, &ClientRecheck::onHandshakeEvent);
}

void ClientRecheck::onHandshakeEvent(const SSL* ssl, int where, int ret) {
  if (SSL_is_server(ssl) != 1) return;
  if ((where & SSL_CB_EXIT) != 0 && ret <= 0) {
    recordHandshakeError(ssl);  // names a failure that no certificate verdict explains
    return;
  }
  if ((where & SSL_CB_HANDSHAKE_DONE) == 0) return;
  const auto* self = static_cast<const ClientRecheck*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), contextIndex()));
  if (self == nullptr) return;
  ClientStanding standing;
  standing.leaf.reset(SSL_get1_peer_certificate(ssl));
  STACK_OF(X509)* sent = SSL_get_peer_cert_chain(ssl);  // on a server: without the leaf; kept in the session
  standing.untrusted.reset(sent != nullptr ? X509_chain_up_ref(sent) : sk_X509_new_null());
  standing.resumed = SSL_session_reused(ssl) == 1;
  if (!standing.resumed) {
    // This handshake verified the chain, with the material the certificate callback installed:
    // if that is still the material in force, the verification stands until its dates.
    STACK_OF(X509)* verified = SSL_get0_verified_chain(ssl);
    X509_STORE* used = nullptr;
    SSL_get0_verify_cert_store(const_cast<SSL*>(ssl), &used);
    auto current = self->tls_.current();
    if (verified != nullptr && used != nullptr && used == current->verifyStore.get()) {
      standing.validUntil = verifiedUntil(verified, *current->material, ocspValidUntil(ssl));
      standing.verifiedWith = std::move(current);
    }
  }
  auto* recorded = new (std::nothrow) ClientStanding(std::move(standing));
  SSL* mutableSsl = const_cast<SSL*>(ssl);
  // A renegotiation's earlier record is replaced; it is freed only once the slot no longer holds it.
  std::unique_ptr<ClientStanding> earlier(static_cast<ClientStanding*>(SSL_get_ex_data(mutableSsl, completedIndex())));
  if (SSL_set_ex_data(mutableSsl, completedIndex(), recorded) != 1) {
    delete recorded;  // then takeHandshake refuses
    earlier.release();  // still in the slot: freed with the SSL
  }
}

Result<ClientStanding> ClientRecheck::takeHandshake(SSL* ssl) const {
  std::unique_ptr<ClientStanding> taken;
  if (ssl != nullptr) {
    taken.reset(static_cast<ClientStanding*>(SSL_get_ex_data(ssl, completedIndex())));
    SSL_set_ex_data(ssl, completedIndex(), nullptr);
  }
  if (!taken || !taken->leaf || !taken->untrusted) {
    return fail(ErrorCode::kUnauthenticated, "no completed handshake with a client certificate recorded",
                "client certificate required");
  }
  return std::move(*taken);
}

std::optional<StandingRefusal> ClientRecheck::check(ClientStanding& standing, std::int64_t now) const {
  auto current = tls_.current();
  if (standing.verifiedWith == current && now < standing.validUntil) return std::nullopt;

  standing.verifiedWith.reset();
  std::int64_t validUntil = 0;
  std::optional<StandingRefusal> refusal =
      verifyWith(*current, standing.leaf.get(), standing.untrusted.get(), now, &validUntil);
  if (refusal) return refusal;
  standing.validUntil = validUntil;
  standing.verifiedWith = std::move(current);
  return std::nullopt;
}

std::optional<StandingRefusal> ClientRecheck::verifyChain(X509* leaf, STACK_OF(X509) * untrusted,
                                                          std::int64_t now) const {
  auto current = tls_.current();
  std::int64_t validUntil = 0;
  return verifyWith(*current, leaf, untrusted, now, &validUntil);
}

std::optional<StandingRefusal> ClientRecheck::verifyWith(const LoadedTls& current, X509* leaf,
                                                         STACK_OF(X509) * untrusted, std::int64_t now,
                                                         std::int64_t* validUntil) const {
  ossl::UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (serverContext_ == nullptr || !ctx || leaf == nullptr ||
      X509_STORE_CTX_init(ctx.get(), current.verifyStore.get(), leaf, untrusted) != 1) {
    return StandingRefusal{"certificate_invalid", "cannot set up the verification: " + ossl::drainErrors()};
  }
  // As OpenSSL verifies a client inside a server handshake (ssl_verify_cert_chain), at `now`.
  X509_STORE_CTX_set_default(ctx.get(), "ssl_client");
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set1(param, SSL_CTX_get0_param(serverContext_));
  X509_VERIFY_PARAM_set_auth_level(param, SSL_CTX_get_security_level(serverContext_));
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(now));
  X509_STORE_CTX_set_verify_cb(ctx.get(), &verifyClientCertificate);
  if (ocsp_ != nullptr) ocsp_->attachTo(ctx.get());

  VerificationRecord record;
  attachVerificationRecord(ctx.get(), &record);
  const int verified = X509_verify_cert(ctx.get());
  if (verified != 1 || record.refusal) {
    StandingRefusal out = record.refusal
                              ? StandingRefusal{record.refusal->reason, record.refusal->detail}
                              : StandingRefusal{verifyErrorReason(X509_STORE_CTX_get_error(ctx.get())),
                                                X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()))};
    ERR_clear_error();
    return out;
  }
  *validUntil = verifiedUntil(X509_STORE_CTX_get0_chain(ctx.get()), *current.material, record.ocspValidUntil);
  return std::nullopt;
}

}  // namespace hie::auth

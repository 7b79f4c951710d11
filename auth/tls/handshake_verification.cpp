#include "auth/tls/handshake_verification.h"

#include <new>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "auth/identity/certificate_identity.h"

#include <spdlog/spdlog.h>

namespace hie::auth {
namespace {

void freeRecord(void*, void* record, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<VerificationRecord*>(record);
}

// The SSL's own record: allocated by verificationRecord(), freed by OpenSSL with the SSL.
int sslIndex() {
  static const int kIndex = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, &freeRecord);
  return kIndex;
}

// A record the caller owns, for a verification outside a handshake.
int verificationIndex() {
  static const int kIndex = X509_STORE_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return kIndex;
}

VerificationRecord* recordOf(X509_STORE_CTX* ctx) {
  if (auto* attached = static_cast<VerificationRecord*>(X509_STORE_CTX_get_ex_data(ctx, verificationIndex()))) {
    return attached;
  }
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
  return ssl != nullptr ? verificationRecord(ssl) : nullptr;
}

}  // namespace

VerificationRecord* verificationRecord(SSL* ssl) {
  if (auto* existing = static_cast<VerificationRecord*>(SSL_get_ex_data(ssl, sslIndex()))) return existing;
  auto* created = new (std::nothrow) VerificationRecord();
  if (created == nullptr) return nullptr;
  if (SSL_set_ex_data(ssl, sslIndex(), created) != 1) {
    delete created;
    return nullptr;
  }
  return created;
}

const VerificationRecord* findVerificationRecord(const SSL* ssl) {
  return static_cast<const VerificationRecord*>(SSL_get_ex_data(ssl, sslIndex()));
}

void attachVerificationRecord(X509_STORE_CTX* ctx, VerificationRecord* record) {
  X509_STORE_CTX_set_ex_data(ctx, verificationIndex(), record);
}

void recordHandshakeRefusal(X509_STORE_CTX* ctx, int err, const std::string& reason, const std::string& detail) {
  VerificationRecord* record = recordOf(ctx);
  if (record == nullptr || record->refusal) return;  // keep the first, most specific failure
  HandshakeRefusal& refusal = record->refusal.emplace();
  refusal.reason = reason;
  refusal.detail = detail.empty() ? std::string(X509_verify_cert_error_string(err)) + " at depth " +
                                        std::to_string(X509_STORE_CTX_get_error_depth(ctx))
                                  : detail;
  if (X509* leaf = X509_STORE_CTX_get0_cert(ctx)) {
    if (auto id = extractIdentity(leaf)) {
      refusal.subjectDn = id->subjectDn;
      refusal.issuerDn = id->issuerDn;
      refusal.certSha256 = id->certSha256;
    }
  }
}

void recordHandshakeError(const SSL* ssl) {
  const unsigned long error = ERR_peek_last_error();
  if (error == 0) return;  // a retry (want read/write), not a failure
  if (VerificationRecord* record = verificationRecord(const_cast<SSL*>(ssl))) record->handshakeError = error;
}

const char* verifyErrorReason(int e) {
  switch (e) {
    case X509_V_ERR_CERT_HAS_EXPIRED: return "certificate_expired";
    case X509_V_ERR_CERT_NOT_YET_VALID: return "certificate_not_yet_valid";
    case X509_V_ERR_CERT_REVOKED: return "certificate_revoked";
    case X509_V_ERR_UNABLE_TO_GET_CRL: return "crl_missing";
    case X509_V_ERR_CRL_HAS_EXPIRED: return "crl_expired";
    case X509_V_ERR_CRL_NOT_YET_VALID: return "crl_not_yet_valid";
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE: return "crl_invalid";
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN: return "self_signed";
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE: return "unknown_issuer";
    case X509_V_ERR_INVALID_PURPOSE: return "wrong_purpose";
    case X509_V_ERR_INVALID_CA: return "ca_as_client";
    case X509_V_ERR_CERT_CHAIN_TOO_LONG:
    case X509_V_ERR_PATH_LENGTH_EXCEEDED: return "chain_too_long";
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_KEY_TOO_SMALL: return "weak_key";
    case X509_V_ERR_CA_MD_TOO_WEAK: return "weak_signature";
    case X509_V_ERR_CERT_SIGNATURE_FAILURE: return "bad_signature";
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH: return "hostname_mismatch";
    default: return "certificate_invalid";
  }
}

int verifyClientCertificate(int preverifyOk, X509_STORE_CTX* ctx) {
  if (!preverifyOk) {
    const int err = X509_STORE_CTX_get_error(ctx);
    recordHandshakeRefusal(ctx, err, verifyErrorReason(err));
    return 0;
  }
  if (X509_STORE_CTX_get_error_depth(ctx) == 0) {
    X509* leaf = X509_STORE_CTX_get_current_cert(ctx);
    // OpenSSL accepts a CA certificate as a TLS client; a member's identity is
    // an end-entity certificate, never a CA.
    if (leaf == nullptr || X509_check_ca(leaf) != 0) {
      X509_STORE_CTX_set_error(ctx, X509_V_ERR_INVALID_CA);
      recordHandshakeRefusal(ctx, X509_V_ERR_INVALID_CA, "ca_as_client");
      return 0;
    }
    OcspChecker* ocsp = OcspChecker::of(ctx);
    if (ocsp != nullptr && ocsp->mode() != OcspMode::kOff) {
      STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx);
      X509* issuer = chain != nullptr && sk_X509_num(chain) > 1 ? sk_X509_value(chain, 1) : nullptr;
      std::string detail;
      const auto status = ocsp->check(leaf, issuer, X509_STORE_CTX_get0_store(ctx), chain, detail);
      const auto verdict = status.verdict;
      if (VerificationRecord* record = recordOf(ctx)) record->ocspValidUntil = status.validUntil;
      if (verdict == OcspChecker::Verdict::kRevoked) {
        X509_STORE_CTX_set_error(ctx, X509_V_ERR_CERT_REVOKED);
        recordHandshakeRefusal(ctx, X509_V_ERR_CERT_REVOKED, "certificate_revoked_ocsp", detail);
        return 0;
      }
      if (verdict == OcspChecker::Verdict::kUnknown) {
        if (ocsp->mode() == OcspMode::kRequire) {
          X509_STORE_CTX_set_error(ctx, X509_V_ERR_APPLICATION_VERIFICATION);
          recordHandshakeRefusal(ctx, X509_V_ERR_APPLICATION_VERIFICATION, "ocsp_unavailable", detail);
          return 0;
        }
        spdlog::warn("OCSP status unknown, admitting under tls.ocsp=prefer: {}", detail);
      }
    }
  }
  return 1;
}

}  // namespace hie::auth

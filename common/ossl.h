// RAII owners for OpenSSL handles; the only place that names *_free.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace hie::ossl {

template <class T>
struct Free;

#define HIE_OSSL_FREE(T, fn)                                     \
  template <>                                                    \
  struct Free<T> {                                               \
    void operator()(T* p) const noexcept { fn(p); }              \
  };

HIE_OSSL_FREE(X509, X509_free)
HIE_OSSL_FREE(X509_CRL, X509_CRL_free)
HIE_OSSL_FREE(X509_STORE, X509_STORE_free)
HIE_OSSL_FREE(X509_STORE_CTX, X509_STORE_CTX_free)
HIE_OSSL_FREE(EVP_PKEY, EVP_PKEY_free)
HIE_OSSL_FREE(BIO, BIO_free_all)
HIE_OSSL_FREE(GENERAL_NAMES, GENERAL_NAMES_free)
HIE_OSSL_FREE(EXTENDED_KEY_USAGE, EXTENDED_KEY_USAGE_free)
HIE_OSSL_FREE(BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free)
HIE_OSSL_FREE(SSL_CTX, SSL_CTX_free)
HIE_OSSL_FREE(SSL, SSL_free)
HIE_OSSL_FREE(SSL_SESSION, SSL_SESSION_free)
HIE_OSSL_FREE(EVP_MD_CTX, EVP_MD_CTX_free)
HIE_OSSL_FREE(OCSP_CERTID, OCSP_CERTID_free)
// ASN1_INTEGER, ASN1_TIME, ASN1_IA5STRING and ASN1_OCTET_STRING are ASN1_STRING.
HIE_OSSL_FREE(ASN1_STRING, ASN1_STRING_free)
HIE_OSSL_FREE(X509_NAME, X509_NAME_free)
HIE_OSSL_FREE(X509_EXTENSION, X509_EXTENSION_free)
HIE_OSSL_FREE(X509_REVOKED, X509_REVOKED_free)
HIE_OSSL_FREE(GENERAL_NAME, GENERAL_NAME_free)
HIE_OSSL_FREE(BIGNUM, BN_free)
HIE_OSSL_FREE(ECDSA_SIG, ECDSA_SIG_free)
HIE_OSSL_FREE(OCSP_REQUEST, OCSP_REQUEST_free)
HIE_OSSL_FREE(OCSP_RESPONSE, OCSP_RESPONSE_free)
HIE_OSSL_FREE(OCSP_BASICRESP, OCSP_BASICRESP_free)

#undef HIE_OSSL_FREE

template <class T>
using UniquePtr = std::unique_ptr<T, Free<T>>;

// Owns a STACK_OF(X509) and the certificates in it.
struct X509StackFree {
  void operator()(STACK_OF(X509) * s) const noexcept { sk_X509_pop_free(s, X509_free); }
};
using X509Stack = std::unique_ptr<STACK_OF(X509), X509StackFree>;

// Owns the list of strings X509_get1_ocsp / X509_get1_email return.
struct StringListFree {
  void operator()(STACK_OF(OPENSSL_STRING) * s) const noexcept { X509_email_free(s); }
};
using StringList = std::unique_ptr<STACK_OF(OPENSSL_STRING), StringListFree>;

// Owns memory OpenSSL allocated for the caller (i2d_* output, BN_bn2hex, ...).
struct BufferFree {
  void operator()(void* p) const noexcept { OPENSSL_free(p); }
};
template <class T>
using Buffer = std::unique_ptr<T, BufferFree>;

// The DER encoding i2d wrote into an OpenSSL buffer, as bytes ("" when length <= 0).
std::string takeDer(unsigned char* der, int length);
// X509_NAME_oneline of the name ("?" when it cannot be printed).
std::string nameOneLine(const X509_NAME* name);

// Drains the thread's OpenSSL error queue into one line ("" when empty).
std::string drainErrors();

// Seconds since the epoch of a certificate, CRL or OCSP time (UTCTime or
// GeneralizedTime); nullopt for a null or unreadable time.
std::optional<std::int64_t> epochSeconds(const ASN1_TIME* time);

}  // namespace hie::ossl

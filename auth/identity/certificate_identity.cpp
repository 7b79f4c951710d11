#include "auth/identity/certificate_identity.h"

#include "common/digest.h"
#include "common/hex.h"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <cstring>

namespace hie::auth {
namespace {

Result<std::string> nameToString(const X509_NAME* name) {
  ossl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio) return fail(ErrorCode::kInternal, "BIO_new failed: " + ossl::drainErrors(), "internal error");
  if (X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
    return fail(ErrorCode::kInvalidInput, "cannot print distinguished name: " + ossl::drainErrors(),
                "malformed certificate name");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

Result<std::int64_t> toEpoch(const ASN1_TIME* t) {
  const auto seconds = ossl::epochSeconds(t);
  if (!seconds) return fail(ErrorCode::kInvalidInput, "unreadable certificate validity time", "malformed certificate");
  return *seconds;
}

std::string asn1String(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
}

bool hasEmbeddedNul(const std::string& s) { return s.find('\0') != std::string::npos; }

}  // namespace

Result<std::string> certificateSha256(const X509* certificate) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(certificate, EVP_sha256(), md, &len) != 1) {
    return fail(ErrorCode::kInternal, "X509_digest failed: " + ossl::drainErrors(), "internal error");
  }
  return lowerHex(md, len);
}

Result<PeerIdentity> extractIdentity(const X509* certificate) {
  if (certificate == nullptr) {
    return fail(ErrorCode::kUnauthenticated, "no certificate", "no client certificate");
  }
  PeerIdentity id;
  auto subject = nameToString(X509_get_subject_name(certificate));
  if (!subject) return tl::make_unexpected(subject.error());
  id.subjectDn = *subject;
  auto issuer = nameToString(X509_get_issuer_name(certificate));
  if (!issuer) return tl::make_unexpected(issuer.error());
  id.issuerDn = *issuer;

  const ASN1_INTEGER* serial = X509_get0_serialNumber(certificate);
  ossl::UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) {
    return fail(ErrorCode::kInvalidInput, "unreadable serial number: " + ossl::drainErrors(),
                "malformed certificate");
  }
  ossl::Buffer<char> hex(BN_bn2hex(bn.get()));
  if (!hex) return fail(ErrorCode::kInternal, "BN_bn2hex failed", "internal error");
  id.serialHex = hex.get();

  auto notBefore = toEpoch(X509_get0_notBefore(certificate));
  if (!notBefore) return tl::make_unexpected(notBefore.error());
  auto notAfter = toEpoch(X509_get0_notAfter(certificate));
  if (!notAfter) return tl::make_unexpected(notAfter.error());
  id.notBefore = *notBefore;
  id.notAfter = *notAfter;

  int crit = 0;
  ossl::UniquePtr<GENERAL_NAMES> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate, NID_subject_alt_name, &crit, nullptr)));
  if (!names && crit >= 0) {
    // crit == -1: no extension; anything else without a result is a malformed one.
    return fail(ErrorCode::kInvalidInput, "malformed subjectAltName extension", "malformed certificate");
  }
  if (names) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
      if (gn->type == GEN_URI) {
        std::string uri = asn1String(gn->d.uniformResourceIdentifier);
        // An embedded NUL could make a URI look like another; such a name maps to nothing.
        if (!hasEmbeddedNul(uri)) id.sanUris.push_back(std::move(uri));
      } else if (gn->type == GEN_DNS) {
        std::string dns = asn1String(gn->d.dNSName);
        if (!hasEmbeddedNul(dns)) id.sanDns.push_back(std::move(dns));
      }
    }
  }

  auto fp = certificateSha256(certificate);
  if (!fp) return tl::make_unexpected(fp.error());
  id.certSha256 = *fp;

  unsigned char* spkiDer = nullptr;
  const int spkiLength = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(certificate), &spkiDer);  // sets spkiDer
  const std::string spki = ossl::takeDer(spkiDer, spkiLength);
  if (spki.empty()) {
    return fail(ErrorCode::kInvalidInput, "unreadable public key: " + ossl::drainErrors(), "malformed certificate");
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdLen = 0;
  int ok = EVP_Digest(spki.data(), spki.size(), md, &mdLen, EVP_sha256(), nullptr);
  if (ok != 1) return fail(ErrorCode::kInternal, "EVP_Digest failed: " + ossl::drainErrors(), "internal error");
  id.spkiSha256 = lowerHex(md, mdLen);
  id.publicKeyDer = spki;
  return id;
}

Result<ossl::X509Stack> parseCertificateChainPem(const std::string& pem) {
  ossl::UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return fail(ErrorCode::kInternal, "BIO_new_mem_buf failed", "internal error");
  ossl::X509Stack chain(sk_X509_new_null());
  if (!chain) return fail(ErrorCode::kInternal, "sk_X509_new_null failed", "internal error");
  ERR_clear_error();
  while (true) {
    ossl::UniquePtr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    if (sk_X509_push(chain.get(), cert.get()) == 0) return fail(ErrorCode::kInternal, "sk_X509_push failed", "internal error");
    cert.release();  // the stack owns it now
  }
  unsigned long err = ERR_peek_last_error();
  bool cleanEnd = ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
  if (err != 0 && !cleanEnd) {
    return fail(ErrorCode::kInvalidInput, "malformed PEM certificate: " + ossl::drainErrors(),
                "malformed PEM certificate");
  }
  ERR_clear_error();
  if (sk_X509_num(chain.get()) == 0) {
    return fail(ErrorCode::kInvalidInput, "no PEM certificate found", "no PEM certificate found");
  }
  return chain;
}

Result<ossl::UniquePtr<X509>> parseCertificatePem(const std::string& pem) {
  auto chain = parseCertificateChainPem(pem);
  if (!chain) return tl::make_unexpected(chain.error());
  if (sk_X509_num(chain->get()) != 1) {
    return fail(ErrorCode::kInvalidInput, "expected exactly one certificate, found " +
                                              std::to_string(sk_X509_num(chain->get())),
                "expected exactly one PEM certificate");
  }
  return ossl::UniquePtr<X509>(sk_X509_shift(chain->get()));
}

}  // namespace hie::auth

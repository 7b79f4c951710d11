#include "auth/tls/development_ca.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <cstdint>
#include <ctime>

#include "auth/identity/certificate_identity.h"

namespace hie::auth {
namespace {

// "<what>: <drained OpenSSL error queue>", for the operator and the logs alike.
tl::unexpected<Error> openSslFailure(const std::string& what, ErrorCode code = ErrorCode::kInternal) {
  const std::string queue = ossl::drainErrors();
  return fail(code, what + ": " + (queue.empty() ? "(no OpenSSL error queued)" : queue));
}

// The builders below chain many OpenSSL calls; each failure ends the build.
#define HIE_CHECK(call, what)                          \
  do {                                                 \
    if ((call) <= 0) return openSslFailure(what);      \
  } while (0)

Result<ossl::UniquePtr<ASN1_TIME>> timeFromNow(long offsetSeconds) {
  ossl::UniquePtr<ASN1_TIME> t(ASN1_TIME_adj(nullptr, std::time(nullptr), 0, offsetSeconds));
  if (!t) return openSslFailure("ASN1_TIME_adj");
  return t;
}

Result<ossl::UniquePtr<ASN1_INTEGER>> randomSerial() {
  ossl::UniquePtr<ASN1_INTEGER> serial(ASN1_INTEGER_new());
  if (!serial) return openSslFailure("ASN1_INTEGER_new");
  uint64_t value = 0;
  while (value == 0) {
    unsigned char bytes[8];
    HIE_CHECK(RAND_bytes(bytes, sizeof(bytes)), "RAND_bytes");
    for (unsigned char b : bytes) value = (value << 8) | b;
    value &= ~(uint64_t{1} << 63);  // keep the DER encoding within 8 octets
  }
  HIE_CHECK(ASN1_INTEGER_set_uint64(serial.get(), value), "ASN1_INTEGER_set_uint64");
  return serial;
}

Result<ossl::UniquePtr<X509_NAME>> makeName(const CertificateProfile& profile) {
  ossl::UniquePtr<X509_NAME> name(X509_NAME_new());
  if (!name) return openSslFailure("X509_NAME_new");
  for (const auto& [field, value] : {std::pair<const char*, const std::string*>{"O", &profile.organization},
                                     {"CN", &profile.commonName}}) {
    if (value->empty()) continue;
    HIE_CHECK(X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                                         reinterpret_cast<const unsigned char*>(value->data()),
                                         static_cast<int>(value->size()), -1, 0),
              "X509_NAME_add_entry_by_txt");
  }
  return name;
}

// Takes ownership of value.
Result<void> pushGeneralName(GENERAL_NAMES* names, int type, ASN1_STRING* value) {
  ossl::UniquePtr<ASN1_STRING> owned(value);
  ossl::UniquePtr<GENERAL_NAME> name(GENERAL_NAME_new());
  if (!name) return openSslFailure("GENERAL_NAME_new");
  GENERAL_NAME_set0_value(name.get(), type, owned.release());
  HIE_CHECK(sk_GENERAL_NAME_push(names, name.get()), "sk_GENERAL_NAME_push");
  name.release();  // now owned by the stack
  return {};
}

Result<ASN1_STRING*> ia5(const std::string& s) {
  ossl::UniquePtr<ASN1_STRING> str(ASN1_IA5STRING_new());
  if (!str) return openSslFailure("ASN1_IA5STRING_new");
  HIE_CHECK(ASN1_STRING_set(str.get(), s.data(), static_cast<int>(s.size())), "ASN1_STRING_set");
  return str.release();
}

Result<void> addSubjectAltNames(X509* cert, const CertificateProfile& profile) {
  if (profile.sanUris.empty() && profile.sanDns.empty() && profile.sanIps.empty()) return {};
  ossl::UniquePtr<GENERAL_NAMES> names(sk_GENERAL_NAME_new_null());
  if (!names) return openSslFailure("sk_GENERAL_NAME_new_null");
  for (const auto& [type, values] : {std::pair<int, const std::vector<std::string>*>{GEN_URI, &profile.sanUris},
                                     {GEN_DNS, &profile.sanDns}}) {
    for (const auto& value : *values) {
      auto str = ia5(value);
      if (!str) return tl::make_unexpected(str.error());
      if (auto pushed = pushGeneralName(names.get(), type, *str); !pushed) return pushed;
    }
  }
  for (const auto& ip : profile.sanIps) {
    ASN1_OCTET_STRING* addr = a2i_IPADDRESS(ip.c_str());
    if (addr == nullptr) return openSslFailure("a2i_IPADDRESS(" + ip + ")", ErrorCode::kInvalidInput);
    if (auto pushed = pushGeneralName(names.get(), GEN_IPADD, addr); !pushed) return pushed;
  }
  // RFC 5280 4.2.1.6: SAN is critical when the subject DN is empty.
  const int critical = profile.commonName.empty() && profile.organization.empty() ? 1 : 0;
  HIE_CHECK(X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), critical, X509V3_ADD_DEFAULT),
            "X509_add1_ext_i2d(subjectAltName)");
  return {};
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

// What write(bio) writes into a memory BIO, e.g. PEM text.
template <class Write>
Result<std::string> written(Write write, const char* what) {
  ossl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio) return openSslFailure("BIO_new");
  if (write(bio.get()) <= 0) return openSslFailure(what);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  if (len < 0) return openSslFailure("BIO_get_mem_data");
  return std::string(data, static_cast<size_t>(len));
}

Result<void> requireKeyed(const CaCredential& c, const char* what) {
  if (!c.cert || !c.key) return fail(ErrorCode::kInvalidInput, std::string(what) + ": empty Credential");
  return {};
}

}  // namespace

Result<ossl::UniquePtr<EVP_PKEY>> generateEcP256Key() {
  ossl::UniquePtr<EVP_PKEY> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return openSslFailure("EVP_PKEY_Q_keygen");
  return key;
}

Result<ossl::UniquePtr<EVP_PKEY>> generateRsaKey(int bits) {
  if (bits < 2048 || bits > 4096) return fail(ErrorCode::kInvalidInput, "RSA key size must be 2048..4096 bits");
  ossl::UniquePtr<EVP_PKEY> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)));
  if (!key) return openSslFailure("EVP_PKEY_Q_keygen(RSA)");
  return key;
}

Result<void> addConfExtension(X509* cert, X509* issuerCert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuerCert != nullptr ? issuerCert : cert, cert, nullptr, nullptr, 0);
  ossl::UniquePtr<X509_EXTENSION> ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext) return openSslFailure("X509V3_EXT_nconf_nid", ErrorCode::kInvalidInput);
  HIE_CHECK(X509_add_ext(cert, ext.get(), -1), "X509_add_ext");
  return {};
}

Result<ossl::UniquePtr<X509>> draftCertificate(const CertificateProfile& profile, EVP_PKEY* subjectKey,
                                               X509* issuerCert) {
  ossl::UniquePtr<X509> cert(X509_new());
  if (!cert) return openSslFailure("X509_new");
  X509* x = cert.get();
  auto serial = randomSerial();
  auto notBefore = timeFromNow(profile.notBeforeOffsetSeconds);
  auto notAfter = timeFromNow(profile.notAfterOffsetSeconds);
  auto subject = makeName(profile);
  if (!serial) return tl::make_unexpected(serial.error());
  if (!notBefore) return tl::make_unexpected(notBefore.error());
  if (!notAfter) return tl::make_unexpected(notAfter.error());
  if (!subject) return tl::make_unexpected(subject.error());
  HIE_CHECK(X509_set_version(x, X509_VERSION_3), "X509_set_version");
  HIE_CHECK(X509_set_serialNumber(x, serial->get()), "X509_set_serialNumber");
  HIE_CHECK(X509_set1_notBefore(x, notBefore->get()), "X509_set1_notBefore");
  HIE_CHECK(X509_set1_notAfter(x, notAfter->get()), "X509_set1_notAfter");
  HIE_CHECK(X509_set_subject_name(x, subject->get()), "X509_set_subject_name");
  HIE_CHECK(X509_set_issuer_name(x, issuerCert ? X509_get_subject_name(issuerCert) : subject->get()),
            "X509_set_issuer_name");
  HIE_CHECK(X509_set_pubkey(x, subjectKey), "X509_set_pubkey");

  std::vector<std::pair<int, std::string>> extensions;
  if (profile.isCa) {
    std::string bc = "critical,CA:TRUE";
    if (profile.pathLen >= 0) bc += ",pathlen:" + std::to_string(profile.pathLen);
    extensions = {{NID_basic_constraints, bc}, {NID_key_usage, "critical,keyCertSign,cRLSign"}};
  } else {
    extensions = {{NID_basic_constraints, "critical,CA:FALSE"}, {NID_key_usage, "critical,digitalSignature"}};
  }
  if (!profile.extendedKeyUsage.empty()) {
    extensions.emplace_back(NID_ext_key_usage, join(profile.extendedKeyUsage, ","));
  }
  for (const auto& [nid, value] : extensions) {
    if (auto added = addConfExtension(x, issuerCert, nid, value); !added) return tl::make_unexpected(added.error());
  }
  if (auto sans = addSubjectAltNames(x, profile); !sans) return tl::make_unexpected(sans.error());
  // SKI first: for self-issued certificates the AKI keyid is taken from it.
  for (const auto& [nid, value] : {std::pair<int, const char*>{NID_subject_key_identifier, "hash"},
                                   {NID_authority_key_identifier, "keyid:always"}}) {
    if (auto added = addConfExtension(x, issuerCert, nid, value); !added) return tl::make_unexpected(added.error());
  }
  return cert;
}

Result<CaCredential> issueCertificate(const CertificateProfile& profile, const CaCredential* issuer) {
  if (issuer != nullptr) {
    if (auto keyed = requireKeyed(*issuer, "issue: issuer"); !keyed) return tl::make_unexpected(keyed.error());
  }
  auto key = profile.rsaBits == 0 ? generateEcP256Key() : generateRsaKey(profile.rsaBits);
  if (!key) return tl::make_unexpected(key.error());
  auto cert = draftCertificate(profile, key->get(), issuer ? issuer->cert.get() : nullptr);
  if (!cert) return tl::make_unexpected(cert.error());
  EVP_PKEY* signer = issuer ? issuer->key.get() : key->get();
  HIE_CHECK(X509_sign(cert->get(), signer, EVP_sha256()), "X509_sign");
  return CaCredential{std::move(*cert), std::move(*key)};
}

Result<CertificateAuthority> createCertificateAuthority(const std::string& organization,
                                                        const std::string& rootName, long rootSeconds,
                                                        const std::string& issuingName, long issuingSeconds) {
  CertificateProfile profile;
  profile.organization = organization;
  profile.isCa = true;
  profile.commonName = rootName;
  profile.notAfterOffsetSeconds = rootSeconds;
  auto root = issueCertificate(profile, nullptr);
  if (!root) return tl::make_unexpected(root.error());
  profile.commonName = issuingName;
  profile.pathLen = 0;
  profile.notAfterOffsetSeconds = issuingSeconds;
  auto intermediate = issueCertificate(profile, &*root);
  if (!intermediate) return tl::make_unexpected(intermediate.error());
  return CertificateAuthority{std::move(*root), std::move(*intermediate)};
}

Result<std::string> makeCrlPem(const CaCredential& issuer, const CrlProfile& profile) {
  if (auto keyed = requireKeyed(issuer, "makeCrlPem: issuer"); !keyed) return tl::make_unexpected(keyed.error());
  ossl::UniquePtr<X509_CRL> crl(X509_CRL_new());
  if (!crl) return openSslFailure("X509_CRL_new");
  X509_CRL* c = crl.get();
  auto lastUpdate = timeFromNow(profile.lastUpdateOffsetSeconds);
  auto nextUpdate = timeFromNow(profile.nextUpdateOffsetSeconds);
  if (!lastUpdate) return tl::make_unexpected(lastUpdate.error());
  if (!nextUpdate) return tl::make_unexpected(nextUpdate.error());
  HIE_CHECK(X509_CRL_set_version(c, X509_CRL_VERSION_2), "X509_CRL_set_version");
  HIE_CHECK(X509_CRL_set_issuer_name(c, X509_get_subject_name(issuer.cert.get())), "X509_CRL_set_issuer_name");
  HIE_CHECK(X509_CRL_set1_lastUpdate(c, lastUpdate->get()), "X509_CRL_set1_lastUpdate");
  HIE_CHECK(X509_CRL_set1_nextUpdate(c, nextUpdate->get()), "X509_CRL_set1_nextUpdate");

  for (const X509* revoked : profile.revoked) {
    if (revoked == nullptr) return fail(ErrorCode::kInvalidInput, "makeCrlPem: null revoked certificate");
    ossl::UniquePtr<X509_REVOKED> entry(X509_REVOKED_new());
    if (!entry) return openSslFailure("X509_REVOKED_new");
    // OpenSSL 3.0 takes a non-const serial but only copies it.
    HIE_CHECK(X509_REVOKED_set_serialNumber(entry.get(), const_cast<ASN1_INTEGER*>(X509_get0_serialNumber(revoked))),
              "X509_REVOKED_set_serialNumber");
    HIE_CHECK(X509_REVOKED_set_revocationDate(entry.get(), lastUpdate->get()), "X509_REVOKED_set_revocationDate");
    HIE_CHECK(X509_CRL_add0_revoked(c, entry.get()), "X509_CRL_add0_revoked");
    entry.release();  // now owned by the CRL
  }

  ossl::UniquePtr<ASN1_INTEGER> number(ASN1_INTEGER_new());
  if (!number) return openSslFailure("ASN1_INTEGER_new");
  HIE_CHECK(ASN1_INTEGER_set_int64(number.get(), profile.crlNumber), "ASN1_INTEGER_set_int64");
  HIE_CHECK(X509_CRL_add1_ext_i2d(c, NID_crl_number, number.get(), 0, X509V3_ADD_DEFAULT),
            "X509_CRL_add1_ext_i2d(crlNumber)");
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer.cert.get(), nullptr, nullptr, c, 0);
  ossl::UniquePtr<X509_EXTENSION> aki(
      X509V3_EXT_nconf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"));
  if (!aki) return openSslFailure("X509V3_EXT_nconf_nid(authorityKeyIdentifier)");
  HIE_CHECK(X509_CRL_add_ext(c, aki.get(), -1), "X509_CRL_add_ext");

  HIE_CHECK(X509_CRL_sort(c), "X509_CRL_sort");
  HIE_CHECK(X509_CRL_sign(c, issuer.key.get(), EVP_sha256()), "X509_CRL_sign");
  return written([c](BIO* bio) { return PEM_write_bio_X509_CRL(bio, c); }, "PEM_write_bio_X509_CRL");
}

Result<std::string> certificatePem(X509* cert) {
  if (cert == nullptr) return fail(ErrorCode::kInvalidInput, "certPem: empty Credential");
  return written([cert](BIO* bio) { return PEM_write_bio_X509(bio, cert); }, "PEM_write_bio_X509");
}

Result<std::string> privateKeyPem(EVP_PKEY* key) {
  if (key == nullptr) return fail(ErrorCode::kInvalidInput, "keyPem: empty Credential");
  return written(
      [key](BIO* bio) { return PEM_write_bio_PKCS8PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr); },
      "PEM_write_bio_PKCS8PrivateKey");
}

Result<std::string> certificateChainPem(const X509* leaf, const STACK_OF(X509) * more) {
  auto out = certificatePem(const_cast<X509*>(leaf));  // PEM_write_bio_X509 only reads it
  if (!out) return out;
  for (int i = 0; more != nullptr && i < sk_X509_num(more); ++i) {
    X509* cert = sk_X509_value(more, i);
    if (X509_cmp(cert, leaf) == 0) continue;
    auto pem = certificatePem(cert);
    if (!pem) return pem;
    *out += *pem;
  }
  return out;
}

Result<CaCredential> credentialFromPem(const std::string& certPem, const std::string& keyPem) {
  auto chain = parseCertificateChainPem(certPem);
  if (!chain) return tl::make_unexpected(chain.error());
  X509* first = sk_X509_value(chain->get(), 0);
  HIE_CHECK(X509_up_ref(first), "X509_up_ref");
  CaCredential credential{ossl::UniquePtr<X509>(first), nullptr};
  if (!keyPem.empty()) {
    ossl::UniquePtr<BIO> bio(BIO_new_mem_buf(keyPem.data(), static_cast<int>(keyPem.size())));
    if (!bio) return openSslFailure("BIO_new_mem_buf");
    credential.key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, const_cast<char*>("")));
    if (!credential.key) return openSslFailure("no unencrypted PEM private key", ErrorCode::kInvalidInput);
  }
  return credential;
}

#undef HIE_CHECK

}  // namespace hie::auth

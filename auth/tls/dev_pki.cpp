#include "auth/tls/dev_pki.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace hie::devpki {
namespace detail {

void throwOpenSsl(const std::string& what) {
  std::string msg = what;
  const char* sep = ": ";
  unsigned long code = 0;
  while ((code = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    msg += sep;
    msg += buf;
    sep = "; ";
  }
  if (sep[0] == ':') msg += ": (no OpenSSL error queued)";
  throw std::runtime_error(msg);
}

}  // namespace detail

namespace {

using detail::throwOpenSsl;
using detail::UniquePtr;

void check(int ok, const char* what) {
  if (ok <= 0) throwOpenSsl(what);
}

template <class T>
T* checkPtr(T* p, const char* what) {
  if (p == nullptr) throwOpenSsl(what);
  return p;
}

UniquePtr<BIO> newMemBio() { return UniquePtr<BIO>(checkPtr(BIO_new(BIO_s_mem()), "BIO_new")); }

std::string bioContents(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  if (len < 0) throwOpenSsl("BIO_get_mem_data");
  return std::string(data, static_cast<size_t>(len));
}

const EVP_MD* digestOf(Digest d) { return d == Digest::kSha1 ? EVP_sha1() : EVP_sha256(); }

UniquePtr<EVP_PKEY> generateKey(KeyType type) {
  EVP_PKEY* key = nullptr;
  switch (type) {
    case KeyType::kEcP256:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case KeyType::kRsa1024:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024));
      break;
    case KeyType::kRsa2048:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
      break;
  }
  return UniquePtr<EVP_PKEY>(checkPtr(key, "EVP_PKEY_Q_keygen"));
}

UniquePtr<ASN1_TIME> timeFromNow(long offsetSeconds) {
  return UniquePtr<ASN1_TIME>(
      checkPtr(ASN1_TIME_adj(nullptr, std::time(nullptr), 0, offsetSeconds), "ASN1_TIME_adj"));
}

UniquePtr<ASN1_INTEGER> makeSerial(long requested) {
  UniquePtr<ASN1_INTEGER> serial(checkPtr(ASN1_INTEGER_new(), "ASN1_INTEGER_new"));
  if (requested != 0) {
    check(ASN1_INTEGER_set_int64(serial.get(), requested), "ASN1_INTEGER_set_int64");
    return serial;
  }
  uint64_t value = 0;
  while (value == 0) {
    unsigned char bytes[8];
    check(RAND_bytes(bytes, sizeof(bytes)), "RAND_bytes");
    for (unsigned char b : bytes) value = (value << 8) | b;
    value &= ~(uint64_t{1} << 63);  // keep the DER encoding within 8 octets
  }
  check(ASN1_INTEGER_set_uint64(serial.get(), value), "ASN1_INTEGER_set_uint64");
  return serial;
}

UniquePtr<X509_NAME> makeName(const CertSpec& spec) {
  UniquePtr<X509_NAME> name(checkPtr(X509_NAME_new(), "X509_NAME_new"));
  auto add = [&](const char* field, const std::string& value) {
    if (value.empty()) return;
    check(X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                                     reinterpret_cast<const unsigned char*>(value.data()),
                                     static_cast<int>(value.size()), -1, 0),
          "X509_NAME_add_entry_by_txt");
  };
  add("O", spec.organization);
  add("CN", spec.commonName);
  return name;
}

// Adds an extension described in openssl.cnf syntax (e.g. "critical,CA:TRUE").
void addConfExtension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  UniquePtr<X509_EXTENSION> ext(
      checkPtr(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value.c_str()), "X509V3_EXT_nconf_nid"));
  check(X509_add_ext(cert, ext.get(), -1), "X509_add_ext");
}

void pushGeneralName(GENERAL_NAMES* names, int type, ASN1_STRING* value) {
  UniquePtr<ASN1_STRING> owned(value);
  UniquePtr<GENERAL_NAME> name(checkPtr(GENERAL_NAME_new(), "GENERAL_NAME_new"));
  GENERAL_NAME_set0_value(name.get(), type, owned.release());
  check(sk_GENERAL_NAME_push(names, name.get()), "sk_GENERAL_NAME_push");
  name.release();  // now owned by the stack
}

ASN1_STRING* ia5(const std::string& s) {
  UniquePtr<ASN1_STRING> str(checkPtr(ASN1_IA5STRING_new(), "ASN1_IA5STRING_new"));
  check(ASN1_STRING_set(str.get(), s.data(), static_cast<int>(s.size())), "ASN1_STRING_set");
  return str.release();
}

void addSubjectAltNames(X509* cert, const CertSpec& spec) {
  if (spec.sanUris.empty() && spec.sanDns.empty() && spec.sanIps.empty()) return;
  UniquePtr<GENERAL_NAMES> names(checkPtr(sk_GENERAL_NAME_new_null(), "sk_GENERAL_NAME_new_null"));
  for (const auto& uri : spec.sanUris) pushGeneralName(names.get(), GEN_URI, ia5(uri));
  for (const auto& dns : spec.sanDns) pushGeneralName(names.get(), GEN_DNS, ia5(dns));
  for (const auto& ip : spec.sanIps) {
    ASN1_OCTET_STRING* addr = a2i_IPADDRESS(ip.c_str());
    if (addr == nullptr) throwOpenSsl("a2i_IPADDRESS(" + ip + ")");
    pushGeneralName(names.get(), GEN_IPADD, addr);
  }
  // RFC 5280 4.2.1.6: SAN is critical when the subject DN is empty.
  const int critical = spec.commonName.empty() && spec.organization.empty() ? 1 : 0;
  check(X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), critical, X509V3_ADD_DEFAULT),
        "X509_add1_ext_i2d(subjectAltName)");
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

void requireCert(const Credential& c, const char* what) {
  if (c.cert() == nullptr) throw std::runtime_error(std::string(what) + ": empty Credential");
}

void requireNonEmpty(const Credential& c, const char* what) {
  if (c.cert() == nullptr || c.key() == nullptr) {
    throw std::runtime_error(std::string(what) + ": empty Credential");
  }
}

}  // namespace

// ---- Credential ----

Credential::Credential(UniquePtr<X509> cert, UniquePtr<EVP_PKEY> key)
    : cert_(std::move(cert)), key_(std::move(key)) {}

Credential::Credential(const Credential& other) { *this = other; }

Credential& Credential::operator=(const Credential& other) {
  if (this == &other) return *this;
  UniquePtr<X509> cert;
  UniquePtr<EVP_PKEY> key;
  if (other.cert_) {
    check(X509_up_ref(other.cert_.get()), "X509_up_ref");
    cert.reset(other.cert_.get());
  }
  if (other.key_) {
    check(EVP_PKEY_up_ref(other.key_.get()), "EVP_PKEY_up_ref");
    key.reset(other.key_.get());
  }
  cert_ = std::move(cert);
  key_ = std::move(key);
  return *this;
}

std::string Credential::certPem() const {
  requireCert(*this, "certPem");
  auto bio = newMemBio();
  check(PEM_write_bio_X509(bio.get(), cert_.get()), "PEM_write_bio_X509");
  return bioContents(bio.get());
}

std::string Credential::keyPem() const {
  requireNonEmpty(*this, "keyPem");
  auto bio = newMemBio();
  check(PEM_write_bio_PKCS8PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr),
        "PEM_write_bio_PKCS8PrivateKey");
  return bioContents(bio.get());
}

std::string Credential::certDer() const {
  requireCert(*this, "certDer");
  const int len = i2d_X509(cert_.get(), nullptr);
  if (len <= 0) throwOpenSsl("i2d_X509");
  std::string out(static_cast<size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(&out[0]);
  if (i2d_X509(cert_.get(), &p) != len) throwOpenSsl("i2d_X509");
  return out;
}

std::string Credential::serialHex() const {
  requireCert(*this, "serialHex");
  // Mirrors i2a_ASN1_INTEGER, which `openssl x509 -serial` uses.
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert_.get());
  const unsigned char* data = ASN1_STRING_get0_data(serial);
  const int len = ASN1_STRING_length(serial);
  std::string out = ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER ? "-" : "";
  if (len == 0) return out + "00";
  static const char kHex[] = "0123456789ABCDEF";
  for (int i = 0; i < len; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 0x0f];
  }
  return out;
}

std::string Credential::sha256Fingerprint() const {
  requireCert(*this, "sha256Fingerprint");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  check(X509_digest(cert_.get(), EVP_sha256(), md, &len), "X509_digest");
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0x0f];
  }
  return out;
}

// ---- issuing ----

Credential issue(const CertSpec& spec, const Credential* issuer) {
  if (issuer != nullptr) requireNonEmpty(*issuer, "issue: issuer");
  auto key = generateKey(spec.keyType);
  UniquePtr<X509> cert(checkPtr(X509_new(), "X509_new"));
  X509* x = cert.get();

  check(X509_set_version(x, X509_VERSION_3), "X509_set_version");
  check(X509_set_serialNumber(x, makeSerial(spec.serial).get()), "X509_set_serialNumber");
  check(X509_set1_notBefore(x, timeFromNow(spec.notBeforeOffsetSeconds).get()), "X509_set1_notBefore");
  check(X509_set1_notAfter(x, timeFromNow(spec.notAfterOffsetSeconds).get()), "X509_set1_notAfter");
  auto subject = makeName(spec);
  check(X509_set_subject_name(x, subject.get()), "X509_set_subject_name");
  check(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer->cert()) : subject.get()),
        "X509_set_issuer_name");
  check(X509_set_pubkey(x, key.get()), "X509_set_pubkey");

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer ? issuer->cert() : x, x, nullptr, nullptr, 0);
  if (spec.isCa) {
    std::string bc = "critical,CA:TRUE";
    if (spec.pathLen >= 0) bc += ",pathlen:" + std::to_string(spec.pathLen);
    addConfExtension(x, &ctx, NID_basic_constraints, bc);
    addConfExtension(x, &ctx, NID_key_usage, spec.keyUsage.empty() ? "critical,keyCertSign,cRLSign" : spec.keyUsage);
  } else {
    addConfExtension(x, &ctx, NID_basic_constraints, "critical,CA:FALSE");
    addConfExtension(x, &ctx, NID_key_usage, spec.keyUsage.empty() ? "critical,digitalSignature" : spec.keyUsage);
  }
  if (!spec.extendedKeyUsage.empty()) {
    addConfExtension(x, &ctx, NID_ext_key_usage, join(spec.extendedKeyUsage, ","));
  }
  if (!spec.ocspUrl.empty()) addConfExtension(x, &ctx, NID_info_access, "OCSP;URI:" + spec.ocspUrl);
  addSubjectAltNames(x, spec);
  // SKI first: for self-signed certs the AKI keyid is taken from it.
  addConfExtension(x, &ctx, NID_subject_key_identifier, "hash");
  addConfExtension(x, &ctx, NID_authority_key_identifier, "keyid:always");

  EVP_PKEY* signer = issuer ? issuer->key() : key.get();
  if (X509_sign(x, signer, digestOf(spec.digest)) <= 0) throwOpenSsl("X509_sign");
  return Credential(std::move(cert), std::move(key));
}

std::string makeCrlPem(const Credential& issuer, const CrlSpec& spec) {
  requireNonEmpty(issuer, "makeCrlPem: issuer");
  UniquePtr<X509_CRL> crl(checkPtr(X509_CRL_new(), "X509_CRL_new"));
  X509_CRL* c = crl.get();
  check(X509_CRL_set_version(c, X509_CRL_VERSION_2), "X509_CRL_set_version");
  check(X509_CRL_set_issuer_name(c, X509_get_subject_name(issuer.cert())), "X509_CRL_set_issuer_name");
  auto lastUpdate = timeFromNow(spec.lastUpdateOffsetSeconds);
  check(X509_CRL_set1_lastUpdate(c, lastUpdate.get()), "X509_CRL_set1_lastUpdate");
  check(X509_CRL_set1_nextUpdate(c, timeFromNow(spec.nextUpdateOffsetSeconds).get()),
        "X509_CRL_set1_nextUpdate");

  for (const Credential* revoked : spec.revoked) {
    if (revoked == nullptr || revoked->cert() == nullptr) {
      throw std::runtime_error("makeCrlPem: null revoked credential");
    }
    UniquePtr<X509_REVOKED> entry(checkPtr(X509_REVOKED_new(), "X509_REVOKED_new"));
    check(X509_REVOKED_set_serialNumber(entry.get(), X509_get_serialNumber(revoked->cert())),
          "X509_REVOKED_set_serialNumber");
    check(X509_REVOKED_set_revocationDate(entry.get(), lastUpdate.get()),
          "X509_REVOKED_set_revocationDate");
    check(X509_CRL_add0_revoked(c, entry.get()), "X509_CRL_add0_revoked");
    entry.release();  // now owned by the CRL
  }

  UniquePtr<ASN1_INTEGER> number(checkPtr(ASN1_INTEGER_new(), "ASN1_INTEGER_new"));
  check(ASN1_INTEGER_set_int64(number.get(), spec.crlNumber), "ASN1_INTEGER_set_int64");
  check(X509_CRL_add1_ext_i2d(c, NID_crl_number, number.get(), 0, X509V3_ADD_DEFAULT),
        "X509_CRL_add1_ext_i2d(crlNumber)");
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer.cert(), nullptr, nullptr, c, 0);
  UniquePtr<X509_EXTENSION> aki(checkPtr(
      X509V3_EXT_nconf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"),
      "X509V3_EXT_nconf_nid(authorityKeyIdentifier)"));
  check(X509_CRL_add_ext(c, aki.get(), -1), "X509_CRL_add_ext");

  check(X509_CRL_sort(c), "X509_CRL_sort");
  if (X509_CRL_sign(c, issuer.key(), digestOf(spec.digest)) <= 0) throwOpenSsl("X509_CRL_sign");
  auto bio = newMemBio();
  check(PEM_write_bio_X509_CRL(bio.get(), c), "PEM_write_bio_X509_CRL");
  return bioContents(bio.get());
}

// ---- TestPki ----

TestPki TestPki::create() {
  CertSpec rootSpec;
  rootSpec.commonName = "Test Network Root";
  rootSpec.organization = "HIE Test";
  rootSpec.isCa = true;
  rootSpec.notAfterOffsetSeconds = 365L * 24 * 3600;
  Credential root = issue(rootSpec, nullptr);

  CertSpec interSpec;
  interSpec.commonName = "Test Network Issuing CA";
  interSpec.organization = "HIE Test";
  interSpec.isCa = true;
  interSpec.pathLen = 0;
  interSpec.notAfterOffsetSeconds = 180L * 24 * 3600;
  Credential intermediate = issue(interSpec, &root);
  return TestPki{std::move(root), std::move(intermediate)};
}

Credential TestPki::leaf(const CertSpec& spec) const { return issue(spec, &intermediate); }

std::string TestPki::chainPem(const Credential& leaf) const {
  return leaf.certPem() + intermediate.certPem();
}

// ---- files ----

std::string writeFile(const std::string& dir, const std::string& name, const std::string& content) {
  const bool isKey = content.find("PRIVATE KEY") != std::string::npos;
  return writeFile(dir, name, content, isKey ? 0600 : 0644);
}

std::string writeFile(const std::string& dir, const std::string& name, const std::string& content,
                      mode_t mode) {
  const std::string path = dir + "/" + name;
  auto fail = [&](const char* op) {
    throw std::runtime_error("writeFile " + path + ": " + op + ": " + std::strerror(errno));
  };
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) fail("open");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::fchmod(fd, mode) != 0) fail("fchmod");
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write");
    }
    done += static_cast<size_t>(n);
  }
  return path;
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = (base != nullptr && base[0] != '\0') ? base : "/tmp";
  tmpl += "/hie-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
  }
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);  // best effort; never throws
}

Credential Credential::fromPem(const std::string& certPem, const std::string& keyPem) {
  detail::UniquePtr<BIO> certBio(BIO_new_mem_buf(certPem.data(), static_cast<int>(certPem.size())));
  detail::UniquePtr<X509> cert(PEM_read_bio_X509(certBio.get(), nullptr, nullptr, nullptr));
  if (!cert) detail::throwOpenSsl("no PEM certificate");
  detail::UniquePtr<EVP_PKEY> key;
  if (!keyPem.empty()) {
    detail::UniquePtr<BIO> keyBio(BIO_new_mem_buf(keyPem.data(), static_cast<int>(keyPem.size())));
    key.reset(PEM_read_bio_PrivateKey(keyBio.get(), nullptr, nullptr, const_cast<char*>("")));
    if (!key) detail::throwOpenSsl("no unencrypted PEM private key");
  }
  return Credential(std::move(cert), std::move(key));
}

}  // namespace hie::devpki

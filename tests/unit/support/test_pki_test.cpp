#include "tests/support/test_pki.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace hie::testing {
namespace {

using ossl::UniquePtr;

constexpr long kDay = 24L * 3600;

struct CommandResult {
  int exitCode = -1;
  std::string output;
};

// Runs a shell command, capturing stdout (stderr is folded in by the caller if wanted).
CommandResult run(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buf[512];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) result.output.append(buf, n);
  const int status = ::pclose(pipe);
  result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string normalizeHex(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::isxdigit(static_cast<unsigned char>(c))) {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \r\n\t");
  const auto e = s.find_last_not_of(" \r\n\t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

UniquePtr<X509_CRL> parseCrl(const std::string& pem) {
  UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) throwOpenSsl("BIO_new_mem_buf");
  UniquePtr<X509_CRL> crl(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
  if (!crl) throwOpenSsl("PEM_read_bio_X509_CRL");
  return crl;
}

// Verifies leaf against a store trusting `root`, with `intermediate` untrusted.
// Returns the X509_V_* result code (X509_V_OK on success).
int verify(const Credential& leaf, const Credential& root, const Credential& intermediate,
           const std::vector<std::string>& crlPems = {}, unsigned long flags = 0) {
  UniquePtr<X509_STORE> store(X509_STORE_new());
  if (!store) throwOpenSsl("X509_STORE_new");
  if (X509_STORE_add_cert(store.get(), root.cert()) != 1) throwOpenSsl("add_cert");
  for (const auto& pem : crlPems) {
    auto crl = parseCrl(pem);
    if (X509_STORE_add_crl(store.get(), crl.get()) != 1) throwOpenSsl("add_crl");
  }
  if (flags != 0) X509_STORE_set_flags(store.get(), flags);

  ossl::X509Stack untrusted(sk_X509_new_null());
  if (!untrusted || X509_up_ref(intermediate.cert()) != 1) throwOpenSsl("untrusted");
  UniquePtr<X509> ref(intermediate.cert());  // the up-ref taken above
  if (sk_X509_push(untrusted.get(), ref.get()) <= 0) throwOpenSsl("sk_X509_push");
  ref.release();  // now owned by the stack

  UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf.cert(), untrusted.get()) != 1) {
    throwOpenSsl("X509_STORE_CTX_init");
  }
  const int ok = X509_verify_cert(ctx.get());
  const int err = X509_STORE_CTX_get_error(ctx.get());
  ERR_clear_error();
  if (ok == 1) {
    EXPECT_EQ(err, X509_V_OK);
  }
  return ok == 1 ? X509_V_OK : err;
}

std::string errString(int code) { return X509_verify_cert_error_string(code); }

class TestPkiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new TestPki(TestPki::create()); }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }
  static CertSpec clientSpec() {
    CertSpec spec;
    spec.commonName = "node-a.test";
    spec.organization = "Hospital A";
    spec.sanUris = {"spiffe://hie.test/node/a"};
    spec.extendedKeyUsage = {"clientAuth"};
    return spec;
  }
  static TestPki* pki_;
};
TestPki* TestPkiTest::pki_ = nullptr;

TEST_F(TestPkiTest, LeafChainVerifies) {
  const Credential leaf = pki_->leaf(clientSpec());
  const int err = verify(leaf, pki_->root, pki_->intermediate);
  EXPECT_EQ(err, X509_V_OK) << errString(err);
  EXPECT_EQ(X509_check_private_key(leaf.cert(), leaf.key()), 1);
}

TEST_F(TestPkiTest, LeafWithoutIntermediateFails) {
  const Credential leaf = pki_->leaf(clientSpec());
  // Trust the root but pass the leaf itself as "intermediate": no path exists.
  const int err = verify(leaf, pki_->root, leaf);
  EXPECT_EQ(err, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY) << errString(err);
}

TEST_F(TestPkiTest, ExpiredLeafFails) {
  CertSpec spec = clientSpec();
  spec.notBeforeOffsetSeconds = -10 * kDay;
  spec.notAfterOffsetSeconds = -kDay;
  const int err = verify(pki_->leaf(spec), pki_->root, pki_->intermediate);
  EXPECT_EQ(err, X509_V_ERR_CERT_HAS_EXPIRED) << errString(err);
}

TEST_F(TestPkiTest, NotYetValidLeafFails) {
  CertSpec spec = clientSpec();
  spec.notBeforeOffsetSeconds = kDay;
  spec.notAfterOffsetSeconds = 10 * kDay;
  const int err = verify(pki_->leaf(spec), pki_->root, pki_->intermediate);
  EXPECT_EQ(err, X509_V_ERR_CERT_NOT_YET_VALID) << errString(err);
}

TEST_F(TestPkiTest, RevokedLeafFailsCrlCheck) {
  const Credential revoked = pki_->leaf(clientSpec());
  const Credential good = pki_->leaf(clientSpec());
  CrlSpec interCrl;
  interCrl.revoked = {&revoked};
  const std::vector<std::string> crls = {makeCrlPem(pki_->root, CrlSpec{}),
                                         makeCrlPem(pki_->intermediate, interCrl)};
  const unsigned long flags = X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;

  int err = verify(revoked, pki_->root, pki_->intermediate, crls, flags);
  EXPECT_EQ(err, X509_V_ERR_CERT_REVOKED) << errString(err);
  err = verify(good, pki_->root, pki_->intermediate, crls, flags);
  EXPECT_EQ(err, X509_V_OK) << errString(err);
}

TEST_F(TestPkiTest, MissingCrlFailsCrlCheck) {
  const Credential leaf = pki_->leaf(clientSpec());
  const std::vector<std::string> crls = {makeCrlPem(pki_->root, CrlSpec{})};
  const int err = verify(leaf, pki_->root, pki_->intermediate, crls,
                         X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
  EXPECT_EQ(err, X509_V_ERR_UNABLE_TO_GET_CRL) << errString(err);
}

TEST_F(TestPkiTest, ExpiredCrlFails) {
  const Credential leaf = pki_->leaf(clientSpec());
  CrlSpec expired;
  expired.lastUpdateOffsetSeconds = -8 * kDay;
  expired.nextUpdateOffsetSeconds = -kDay;
  const std::vector<std::string> crls = {makeCrlPem(pki_->root, CrlSpec{}),
                                         makeCrlPem(pki_->intermediate, expired)};
  const int err = verify(leaf, pki_->root, pki_->intermediate, crls,
                         X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
  EXPECT_EQ(err, X509_V_ERR_CRL_HAS_EXPIRED) << errString(err);
}

TEST_F(TestPkiTest, CrlIsV2WithNumberAndAki) {
  CrlSpec spec;
  spec.crlNumber = 42;
  auto crl = parseCrl(makeCrlPem(pki_->intermediate, spec));
  EXPECT_EQ(X509_CRL_get_version(crl.get()), X509_CRL_VERSION_2);
  UniquePtr<ASN1_INTEGER> number(static_cast<ASN1_INTEGER*>(
      X509_CRL_get_ext_d2i(crl.get(), NID_crl_number, nullptr, nullptr)));
  ASSERT_TRUE(number);
  EXPECT_EQ(ASN1_INTEGER_get(number.get()), 42);
  EXPECT_NE(X509_CRL_get_ext_by_NID(crl.get(), NID_authority_key_identifier, -1), -1);
  EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(pki_->intermediate.cert())), 1);
}

TEST_F(TestPkiTest, SubjectAltNamesRoundTrip) {
  CertSpec spec = clientSpec();
  spec.sanUris = {"spiffe://hie.test/node/a", "urn:hie:org:1234"};
  spec.sanDns = {"localhost"};
  spec.sanIps = {"127.0.0.1", "::1"};
  const Credential leaf = pki_->leaf(spec);

  UniquePtr<GENERAL_NAMES> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(leaf.cert(), NID_subject_alt_name, nullptr, nullptr)));
  ASSERT_TRUE(names);
  std::vector<std::string> uris, dns;
  int ips = 0;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gen = sk_GENERAL_NAME_value(names.get(), i);
    int type = 0;
    const auto* value = static_cast<const ASN1_STRING*>(GENERAL_NAME_get0_value(gen, &type));
    const std::string text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                           static_cast<size_t>(ASN1_STRING_length(value)));
    if (type == GEN_URI) uris.push_back(text);
    if (type == GEN_DNS) dns.push_back(text);
    if (type == GEN_IPADD) ++ips;
  }
  EXPECT_EQ(uris, spec.sanUris);
  EXPECT_EQ(dns, spec.sanDns);
  EXPECT_EQ(ips, 2);
  EXPECT_EQ(X509_check_ip_asc(leaf.cert(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(leaf.cert(), "::1", 0), 1);
  EXPECT_EQ(X509_check_host(leaf.cert(), "localhost", 0, 0, nullptr), 1);
}

TEST_F(TestPkiTest, ExtendedKeyUsagePurpose) {
  CertSpec server = clientSpec();
  server.extendedKeyUsage = {"serverAuth"};
  CertSpec both = clientSpec();
  both.extendedKeyUsage = {"clientAuth", "serverAuth"};
  const Credential serverOnly = pki_->leaf(server);
  const Credential clientOnly = pki_->leaf(clientSpec());
  const Credential dual = pki_->leaf(both);

  EXPECT_EQ(X509_check_purpose(serverOnly.cert(), X509_PURPOSE_SSL_CLIENT, 0), 0);
  EXPECT_EQ(X509_check_purpose(serverOnly.cert(), X509_PURPOSE_SSL_SERVER, 0), 1);
  EXPECT_EQ(X509_check_purpose(clientOnly.cert(), X509_PURPOSE_SSL_CLIENT, 0), 1);
  EXPECT_EQ(X509_check_purpose(clientOnly.cert(), X509_PURPOSE_SSL_SERVER, 0), 0);
  EXPECT_EQ(X509_check_purpose(dual.cert(), X509_PURPOSE_SSL_CLIENT, 0), 1);
  EXPECT_EQ(X509_check_purpose(dual.cert(), X509_PURPOSE_SSL_SERVER, 0), 1);
}

TEST_F(TestPkiTest, CaFlagsAndPathLen) {
  const Credential leaf = pki_->leaf(clientSpec());
  EXPECT_GT(X509_check_ca(pki_->root.cert()), 0);
  EXPECT_GT(X509_check_ca(pki_->intermediate.cert()), 0);
  EXPECT_EQ(X509_check_ca(leaf.cert()), 0);
  EXPECT_EQ(X509_get_pathlen(pki_->intermediate.cert()), 0);
  EXPECT_EQ(X509_get_pathlen(pki_->root.cert()), -1);
  EXPECT_TRUE(X509_get_extension_flags(pki_->root.cert()) & EXFLAG_SS);
  EXPECT_EQ(X509_get_key_usage(pki_->intermediate.cert()),
            static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_EQ(X509_get_key_usage(leaf.cert()), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  // SKI/AKI link the chain.
  const ASN1_OCTET_STRING* interSki = X509_get0_subject_key_id(pki_->intermediate.cert());
  const ASN1_OCTET_STRING* leafAki = X509_get0_authority_key_id(leaf.cert());
  ASSERT_NE(interSki, nullptr);
  ASSERT_NE(leafAki, nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(interSki, leafAki), 0);
  ASSERT_NE(X509_get0_authority_key_id(pki_->root.cert()), nullptr);
}

TEST_F(TestPkiTest, KeyTypes) {
  CertSpec spec = clientSpec();
  const Credential ec = pki_->leaf(spec);
  EXPECT_EQ(EVP_PKEY_get_base_id(ec.key()), EVP_PKEY_EC);
  EXPECT_EQ(EVP_PKEY_get_bits(ec.key()), 256);
  spec.keyType = KeyType::kRsa1024;
  const Credential rsa1024 = pki_->leaf(spec);
  EXPECT_EQ(EVP_PKEY_get_base_id(rsa1024.key()), EVP_PKEY_RSA);
  EXPECT_EQ(EVP_PKEY_get_bits(rsa1024.key()), 1024);
  EXPECT_EQ(verify(rsa1024, pki_->root, pki_->intermediate), X509_V_OK);
  spec.keyType = KeyType::kRsa2048;
  EXPECT_EQ(EVP_PKEY_get_bits(pki_->leaf(spec).key()), 2048);
}

TEST_F(TestPkiTest, Sha1Signatures) {
  CertSpec spec = clientSpec();
  spec.digest = Digest::kSha1;
  const Credential ecSha1 = pki_->leaf(spec);  // signed by the EC intermediate
  EXPECT_EQ(X509_get_signature_nid(ecSha1.cert()), NID_ecdsa_with_SHA1);

  CertSpec rsaCa;
  rsaCa.commonName = "Legacy RSA CA";
  rsaCa.isCa = true;
  rsaCa.keyType = KeyType::kRsa2048;
  const Credential legacyCa = issue(rsaCa, nullptr);
  const Credential rsaSha1 = issue(spec, &legacyCa);
  EXPECT_EQ(X509_get_signature_nid(rsaSha1.cert()), NID_sha1WithRSAEncryption);
  EXPECT_EQ(X509_get_signature_nid(pki_->leaf(clientSpec()).cert()), NID_ecdsa_with_SHA256);
}

TEST_F(TestPkiTest, SerialNumbers) {
  std::set<std::string> seen;
  for (int i = 0; i < 5; ++i) seen.insert(pki_->leaf(clientSpec()).serialHex());
  EXPECT_EQ(seen.size(), 5u);
  CertSpec spec = clientSpec();
  spec.serial = 0x1234;
  EXPECT_EQ(pki_->leaf(spec).serialHex(), "1234");
  spec.serial = 0x80;
  EXPECT_EQ(pki_->leaf(spec).serialHex(), "80");  // i2a prints content octets (no pad)
  spec.serial = 5;
  EXPECT_EQ(pki_->leaf(spec).serialHex(), "05");
}

TEST_F(TestPkiTest, PemAndDerEncodings) {
  const Credential leaf = pki_->leaf(clientSpec());
  EXPECT_EQ(leaf.keyPem().rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
  EXPECT_EQ(leaf.certPem().rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
  const std::string der = leaf.certDer();
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  UniquePtr<X509> parsed(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(X509_cmp(parsed.get(), leaf.cert()), 0);
  const std::string chain = pki_->chainPem(leaf);
  EXPECT_EQ(chain, leaf.certPem() + pki_->intermediate.certPem());
}

TEST_F(TestPkiTest, CredentialCopiesShareHandles) {
  Credential a = pki_->leaf(clientSpec());
  Credential b = a;
  EXPECT_EQ(a.cert(), b.cert());
  Credential c = std::move(a);
  EXPECT_EQ(a.cert(), nullptr);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(c.cert(), b.cert());
  EXPECT_THROW(a.certPem(), std::runtime_error);
  EXPECT_THROW(issue(clientSpec(), &a), std::runtime_error);
}

TEST_F(TestPkiTest, ErrorsCarryOpenSslQueue) {
  CertSpec spec = clientSpec();
  spec.extendedKeyUsage = {"notARealPurpose"};
  try {
    pki_->leaf(spec);
    FAIL() << "expected throw";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("X509V3_EXT_nconf_nid"), std::string::npos) << what;
    EXPECT_NE(what.find("error:"), std::string::npos) << what;
  }
  spec = clientSpec();
  spec.sanIps = {"not-an-ip"};
  EXPECT_THROW(pki_->leaf(spec), std::runtime_error);
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST_F(TestPkiTest, FingerprintMatchesOpenSslCli) {
  TempDir dir;
  const Credential leaf = pki_->leaf(clientSpec());
  const std::string path = writeFile(dir.path(), "leaf.pem", leaf.certPem());
  const auto r = run("openssl x509 -noout -fingerprint -sha256 -in '" + path + "'");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const auto eq = r.output.find('=');
  ASSERT_NE(eq, std::string::npos) << r.output;
  EXPECT_EQ(normalizeHex(r.output.substr(eq + 1)), leaf.sha256Fingerprint());
  EXPECT_EQ(leaf.sha256Fingerprint().size(), 64u);

  const auto serial = run("openssl x509 -noout -serial -in '" + path + "'");
  ASSERT_EQ(serial.exitCode, 0);
  EXPECT_EQ(trim(serial.output), "serial=" + leaf.serialHex());
}

TEST_F(TestPkiTest, WrittenFilesParseWithCli) {
  TempDir dir;
  const Credential leaf = pki_->leaf(clientSpec());
  const std::string certPath = writeFile(dir.path(), "leaf.pem", leaf.certPem());
  const std::string keyPath = writeFile(dir.path(), "leaf.key", leaf.keyPem());
  const std::string crlPath = writeFile(dir.path(), "inter.crl", makeCrlPem(pki_->intermediate, {}));

  struct stat st {};
  ASSERT_EQ(::stat(keyPath.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(certPath.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);

  EXPECT_EQ(run("openssl x509 -noout -in '" + certPath + "' 2>&1").exitCode, 0);
  EXPECT_EQ(run("openssl pkey -noout -in '" + keyPath + "' 2>&1").exitCode, 0);
  EXPECT_EQ(run("openssl crl -noout -in '" + crlPath + "' 2>&1").exitCode, 0);
  // Key and certificate public keys agree.
  const auto fromCert = run("openssl x509 -noout -pubkey -in '" + certPath + "'");
  const auto fromKey = run("openssl pkey -pubout -in '" + keyPath + "'");
  EXPECT_EQ(fromCert.output, fromKey.output);
}

TEST_F(TestPkiTest, OpenSslVerifyCliSaysOk) {
  TempDir dir;
  const Credential leaf = pki_->leaf(clientSpec());
  const std::string root = writeFile(dir.path(), "root.pem", pki_->root.certPem());
  const std::string inter = writeFile(dir.path(), "inter.pem", pki_->intermediate.certPem());
  const std::string leafPath = writeFile(dir.path(), "leaf.pem", leaf.certPem());
  const auto r = run("openssl verify -CAfile '" + root + "' -untrusted '" + inter + "' '" +
                     leafPath + "' 2>&1");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_EQ(trim(r.output), leafPath + ": OK");
}

TEST(TempDirTest, CreatesPrivateDirAndRemovesIt) {
  std::string path;
  {
    TempDir dir;
    path = dir.path();
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    std::filesystem::create_directories(path + "/a/b");
    writeFile(path + "/a/b", "f.txt", "x");
    writeFile(path, "g.txt", "y", 0640);
    ASSERT_EQ(::stat((path + "/g.txt").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_THROW(writeFile("/nonexistent-dir-hie", "x", "y"), std::runtime_error);
}

TEST(TestPkiCreateTest, FreshKeysEveryCall) {
  const TestPki a = TestPki::create();
  const TestPki b = TestPki::create();
  EXPECT_NE(a.root.sha256Fingerprint(), b.root.sha256Fingerprint());
  EXPECT_NE(EVP_PKEY_eq(a.root.key(), b.root.key()), 1);
  // A leaf from one network does not verify against the other's root.
  CertSpec spec;
  spec.commonName = "x";
  const int err = verify(a.leaf(spec), b.root, a.intermediate);
  EXPECT_NE(err, X509_V_OK);
}

}  // namespace
}  // namespace hie::testing

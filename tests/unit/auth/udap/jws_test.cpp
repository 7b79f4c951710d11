#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "auth/udap/jws.h"
#include "auth/udap/jws_crypto.h"
#include "common/base64.h"
#include "tests/support/test_pki.h"
#include "tests/unit/auth/udap/udap_test_keys.h"

namespace hie::auth::udap {
namespace {

using hie::testing::Credential;
using hie::testing::TestPki;
using namespace hie::testing::udap;
using namespace std::string_literals;

const std::string kClaims = R"({"iss":"urn:example:client","sub":"urn:example:client","exp":1300819380})";

std::string token(const std::string& header, const std::string& payload = kClaims, const std::string& sig = "sig") {
  return compactJws(header, payload, sig);
}

// A header with an x5c of n copies of entry (standard base64).
std::string headerWithX5c(const std::string& alg, const std::vector<std::string>& entries) {
  std::string h = R"({"alg":")" + alg + R"(","x5c":[)";
  for (std::size_t i = 0; i < entries.size(); ++i) h += (i ? ",\"" : "\"") + entries[i] + "\"";
  return h + "]}";
}

std::string refusalOf(const std::string& compact, const JwsLimits& limits = JwsLimits{}) {
  auto parsed = parseJws(compact, limits);
  return parsed ? "accepted" : parsed.error().reason;
}

class Jws : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TestPki(TestPki::create());
    hie::testing::CertSpec spec;
    spec.commonName = "client";
    spec.sanUris = {"urn:example:client"};
    spec.extendedKeyUsage = {"clientAuth"};
    ec_ = new Credential(pki_->leaf(spec));
    spec.keyType = hie::testing::KeyType::kRsa2048;
    rsa_ = new Credential(pki_->leaf(spec));
  }
  static void TearDownTestSuite() {
    delete ec_;
    delete rsa_;
    delete pki_;
  }
  static std::string certB64() { return base64Encode(ec_->certDer()); }

  static TestPki* pki_;
  static Credential* ec_;
  static Credential* rsa_;
};
TestPki* Jws::pki_ = nullptr;
Credential* Jws::ec_ = nullptr;
Credential* Jws::rsa_ = nullptr;

TEST_F(Jws, ParseTable) {
  const std::string cert = certB64();
  const std::string ok = headerWithX5c("ES256", {cert});
  const std::string bigEntry = base64Encode(std::string(9 * 1024, 'x'));
  struct Row {
    std::string compact;
    std::string reason;
    const char* why;
  };
  const std::string h = base64UrlEncode(ok), p = base64UrlEncode(kClaims), s = base64UrlEncode("sig");
  const Row rows[] = {
      {token(ok), "accepted", "well-formed"},
      {h + "." + p, "jws_malformed", "two parts"},
      {h + "." + p + "." + s + "." + s, "jws_malformed", "four parts (JWE has five)"},
      {"." + p + "." + s, "jws_malformed", "empty header"},
      {h + ".." + s, "jws_malformed", "empty payload"},
      {h + "." + p + ".", "jws_malformed", "empty signature (alg none style)"},
      {"", "jws_malformed", "empty"},
      {h + "." + p + "." + s + "=", "jws_base64url", "padding"},
      {h + "." + p + ".Zh", "jws_base64url", "non-canonical last character"},
      {h + "." + p + ".c2ln+", "jws_base64url", "standard alphabet"},
      {h + " ." + p + "." + s, "jws_base64url", "space"},
      {token("[]"), "jws_not_object", "header an array"},
      {token("\"ES256\""), "jws_json", "header a string (Poco reads only objects and arrays at the top)"},
      {token("{"), "jws_json", "header not JSON"},
      {token(ok + "x"), "jws_json", "bytes after the header object"},
      {token(ok + "{}"), "jws_json", "two header objects"},
      {token(R"({"alg":"ES256","alg":"none"})"), "jws_duplicate_key", "duplicate alg"},
      {token(R"({"alg":"none","alg":"ES256"})"), "jws_duplicate_key", "duplicate alg, other order"},
      {token(ok, R"({"iss":"a","iss":"b"})"), "jws_duplicate_key", "duplicate claim"},
      {token(ok, R"({"ext":{"a":1,"a":2}})"), "jws_duplicate_key", "duplicate nested claim"},
      {token(ok, R"({"ext":[{"a":1},{"a":2}]})"), "accepted", "same key in two objects"},
      {token(ok, "[1]"), "jws_not_object", "payload an array"},
      {token(ok, "{} "), "accepted", "trailing whitespace"},
      {token(ok, "{}\x01"), "jws_json", "payload control byte after the object"},
      {token(ok, "{\"a\":\"\xff\"}"), "jws_json", "payload not UTF-8"},
      {token(ok, "{\"a\":1}\0"s), "jws_json", "payload NUL after the object"},
      {token(ok, std::string(40, '[') + std::string(40, ']')), "jws_json", "nesting too deep"},
      {token(R"({"alg":"ES256","crit":["exp"],"x5c":[")" + cert + "\"]}"), "jws_crit", "crit"},
      {token(R"({"alg":"none","x5c":[")" + cert + "\"]}"), "jws_algorithm", "none"},
      {token(R"({"alg":"HS256","x5c":[")" + cert + "\"]}"), "jws_algorithm", "HS256"},
      {token(R"({"alg":"PS256","x5c":[")" + cert + "\"]}"), "jws_algorithm", "PS256"},
      {token(R"({"alg":"EdDSA","x5c":[")" + cert + "\"]}"), "jws_algorithm", "EdDSA"},
      {token(R"({"alg":"es256","x5c":[")" + cert + "\"]}"), "jws_algorithm", "lower case"},
      {token(R"({"alg":"ES256 ","x5c":[")" + cert + "\"]}"), "jws_algorithm", "trailing space"},
      {token(R"({"alg":["ES256"],"x5c":[")" + cert + "\"]}"), "jws_algorithm", "alg an array"},
      {token(R"({"x5c":[")" + cert + "\"]}"), "jws_algorithm", "alg missing"},
      {token(R"({"alg":"ES256","typ":1,"x5c":[")" + cert + "\"]}"), "jws_typ", "typ not a string"},
      {token(R"({"alg":"ES256"})"), "jws_x5c_missing", "x5c absent"},
      {token(headerWithX5c("ES256", {})), "jws_x5c_missing", "x5c empty"},
      {token(R"({"alg":"ES256","x5c":")" + cert + "\"}"), "jws_x5c_malformed", "x5c a string"},
      {token(R"({"alg":"ES256","x5c":[1]})"), "jws_x5c_malformed", "x5c entry a number"},
      {token(headerWithX5c("ES256", {cert, cert, cert, cert, cert})), "accepted", "5 entries"},
      {token(headerWithX5c("ES256", {cert, cert, cert, cert, cert, cert})), "jws_x5c_too_many", "6 entries"},
      {token(headerWithX5c("ES256", {bigEntry})), "jws_x5c_too_large", "9 KiB entry"},
      {token(headerWithX5c("ES256", {base64UrlEncode(ec_->certDer())})), "jws_x5c_base64", "base64url entry"},
      // (A certificate's base64 has padding only when its DER length is not a multiple of 3: use fixed bytes.)
      {token(headerWithX5c("ES256", {"YWI"})), "jws_x5c_base64", "entry without its padding (YWI=)"},
      {token(headerWithX5c("ES256", {"YWJ="})), "jws_x5c_base64", "entry with non-zero unused bits (YWI=)"},
      {token(headerWithX5c("ES256", {"YW\\nI="})), "jws_x5c_base64", "entry with an escaped newline"},
      {token(headerWithX5c("ES256", {""})), "jws_x5c_base64", "empty entry"},
      {token(ok, kClaims, std::string(33 * 1024, 's')), "jws_too_large", "33 KiB token"},
  };
  for (const Row& row : rows) EXPECT_EQ(refusalOf(row.compact), row.reason) << row.why;
}

TEST_F(Jws, ParseKeepsTheParts) {
  const std::string header = R"({"alg":"RS384","typ":"JWT","x5c":[")" + certB64() + "\"]}";
  const std::string compact = token(header, kClaims, "\x01\x02"s);
  auto jws = parseJws(compact);
  ASSERT_TRUE(jws) << jws.error().reason;
  EXPECT_EQ(jws->algorithm, JwsAlgorithm::kRS384);
  EXPECT_EQ(jws->typ, "JWT");
  EXPECT_EQ(jws->headerJson, header);
  EXPECT_EQ(jws->claimsJson, kClaims);
  EXPECT_EQ(jws->signature, "\x01\x02"s);
  EXPECT_EQ(jws->signingInput, compact.substr(0, compact.rfind('.')));
  ASSERT_EQ(jws->x5cDer.size(), 1u);
  EXPECT_EQ(jws->x5cDer[0], ec_->certDer());
}

TEST_F(Jws, LimitsAreTheCallers) {
  JwsLimits limits;
  limits.requireX5c = false;
  EXPECT_EQ(refusalOf(token(R"({"alg":"ES256"})"), limits), "accepted");
  limits.maxX5cEntries = 1;
  EXPECT_EQ(refusalOf(token(headerWithX5c("ES256", {certB64(), certB64()})), limits), "jws_x5c_too_many");
  limits.maxCompactBytes = 10;
  EXPECT_EQ(refusalOf(token(R"({"alg":"ES256"})"), limits), "jws_too_large");
}

TEST_F(Jws, DecodeX5cWantsExactlyOneDerCertificatePerEntry) {
  auto chainOf = [](const std::vector<std::string>& der) {
    ParsedJws jws;
    jws.x5cDer = der;
    return decodeX5c(jws);
  };
  auto chain = chainOf({ec_->certDer(), pki_->intermediate.certDer()});
  ASSERT_TRUE(chain) << chain.error().reason;
  EXPECT_EQ(X509_cmp(chain->leaf.get(), ec_->cert()), 0);
  ASSERT_EQ(sk_X509_num(chain->untrusted.get()), 1);
  EXPECT_EQ(X509_cmp(sk_X509_value(chain->untrusted.get(), 0), pki_->intermediate.cert()), 0);

  EXPECT_EQ(chainOf({ec_->certDer() + "\x00"s}).error().reason, "jws_x5c_not_der");
  EXPECT_EQ(chainOf({ec_->certDer().substr(1)}).error().reason, "jws_x5c_not_der");
  EXPECT_EQ(chainOf({"not a certificate"}).error().reason, "jws_x5c_not_der");
  EXPECT_EQ(chainOf({ec_->certDer(), "junk"}).error().reason, "jws_x5c_not_der");
  EXPECT_EQ(chainOf({}).error().reason, "jws_x5c_missing");
  // Through the parser: base64 of bytes that are no certificate parse, and fail here.
  auto parsed = parseJws(token(headerWithX5c("ES256", {base64Encode("not DER")})));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(decodeX5c(*parsed).error().reason, "jws_x5c_not_der");
}

TEST_F(Jws, AnX5cLeafWithKeyUsageMustAllowDigitalSignature) {
  EXPECT_FALSE(checkSigningKeyUsage(ec_->cert()));  // the test PKI's leaves: digitalSignature
  hie::testing::CertSpec spec;
  spec.commonName = "encipher-only";
  spec.extendedKeyUsage = {"clientAuth"};
  spec.keyUsage = "critical,keyAgreement";
  Credential agreement = pki_->leaf(spec);
  auto refused = checkSigningKeyUsage(agreement.cert());
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason, "x5c_key_usage");
  spec.keyUsage = "digitalSignature,keyAgreement";  // not critical, still a keyUsage that allows signing
  EXPECT_FALSE(checkSigningKeyUsage(pki_->leaf(spec).cert()));
  EXPECT_EQ(checkSigningKeyUsage(nullptr)->reason, "x5c_key_usage");
}

TEST_F(Jws, SignThenVerifyRoundTripsForEveryAllowedKey) {
  struct Case {
    EVP_PKEY* key;
    std::vector<std::string> x5c;
    const char* alg;
  };
  ossl::UniquePtr<EVP_PKEY> p384 = ecKey("P-384");
  const Case cases[] = {
      {ec_->key(), {ec_->certDer(), pki_->intermediate.certDer()}, "ES256"},
      {rsa_->key(), {rsa_->certDer()}, "RS256"},
      {p384.get(), {ec_->certDer()}, "ES384"},  // x5c need not match for signing; the verifier checks
  };
  for (const Case& c : cases) {
    auto compact = signJws(c.key, c.x5c, "JWT", kClaims);
    ASSERT_TRUE(compact) << c.alg;
    auto jws = parseJws(*compact);
    ASSERT_TRUE(jws) << c.alg << ": " << jws.error().reason;
    EXPECT_STREQ(jwsAlgorithmName(jws->algorithm), c.alg);
    EXPECT_EQ(jws->claimsJson, kClaims);
    EXPECT_EQ(jws->x5cDer, c.x5c);
    EXPECT_EQ(jws->typ, "JWT");
    EXPECT_EQ(verifyJwsSignature(*jws, c.key), std::nullopt) << c.alg;
    // The same token with one claim byte changed no longer verifies.
    ParsedJws tampered = *jws;
    tampered.signingInput.back() ^= 1;
    auto refusal = verifyJwsSignature(tampered, c.key);
    ASSERT_TRUE(refusal) << c.alg;
    EXPECT_EQ(refusal->reason, "jws_signature");
  }
  // The node's own tokens: no x5c.
  auto compact = signJwsWithoutX5c(p384.get(), "at+jwt", "k1", kClaims);
  ASSERT_TRUE(compact);
  JwsLimits limits;
  limits.requireX5c = false;
  auto jws = parseJws(*compact, limits);
  ASSERT_TRUE(jws);
  EXPECT_EQ(jws->headerJson, R"({"alg":"ES384","typ":"at+jwt","kid":"k1"})");
  EXPECT_EQ(jws->signature.size(), 96u);
  EXPECT_EQ(verifyJwsSignature(*jws, p384.get()), std::nullopt);
}

TEST_F(Jws, HeaderIsCompactWithKeysInAFixedOrder) {
  auto compact = signJws(ec_->key(), {ec_->certDer()}, "", kClaims);
  ASSERT_TRUE(compact);
  auto jws = parseJws(*compact);
  ASSERT_TRUE(jws);
  EXPECT_EQ(jws->headerJson, R"({"alg":"ES256","x5c":[")" + base64Encode(ec_->certDer()) + "\"]}");
  EXPECT_EQ(jws->signature.size(), 64u);
}

TEST_F(Jws, KeyMustBeOfTheAlgorithmsKind) {
  ossl::UniquePtr<EVP_PKEY> p384 = ecKey("P-384");
  ossl::UniquePtr<EVP_PKEY> rsa1024 = rsaKey(1024);
  ossl::UniquePtr<EVP_PKEY> ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  auto es256 = parseJws(*signJws(ec_->key(), {ec_->certDer()}, "", kClaims));
  auto rs256 = parseJws(*signJws(rsa_->key(), {rsa_->certDer()}, "", kClaims));
  ASSERT_TRUE(es256 && rs256);
  EXPECT_EQ(verifyJwsSignature(*es256, rsa_->key())->reason, "jws_key_mismatch");
  EXPECT_EQ(verifyJwsSignature(*es256, p384.get())->reason, "jws_key_mismatch");
  EXPECT_EQ(verifyJwsSignature(*es256, ed.get())->reason, "jws_key_mismatch");
  EXPECT_EQ(verifyJwsSignature(*es256, nullptr)->reason, "jws_key_mismatch");
  EXPECT_EQ(verifyJwsSignature(*rs256, ec_->key())->reason, "jws_key_mismatch");
  EXPECT_EQ(verifyJwsSignature(*rs256, rsa1024.get())->reason, "jws_key_mismatch");
  // alg says ES384 but the signature was made with P-256.
  ParsedJws relabelled = *es256;
  relabelled.algorithm = JwsAlgorithm::kES384;
  EXPECT_EQ(verifyJwsSignature(relabelled, ec_->key())->reason, "jws_key_mismatch");
  // alg says RS384 over an RS256 signature: same key kind, the signature fails.
  ParsedJws rs384 = *rs256;
  rs384.algorithm = JwsAlgorithm::kRS384;
  EXPECT_EQ(verifyJwsSignature(rs384, rsa_->key())->reason, "jws_signature");

  EXPECT_FALSE(algorithmForKey(rsa1024.get()));
  EXPECT_FALSE(algorithmForKey(ed.get()));
  EXPECT_FALSE(algorithmForKey(ecKey("P-521").get()));
  EXPECT_FALSE(algorithmForKey(nullptr));
  EXPECT_FALSE(signJws(ed.get(), {}, "", kClaims));
  EXPECT_EQ(*algorithmForKey(rsa_->key()), JwsAlgorithm::kRS256);
  EXPECT_EQ(*algorithmForKey(ec_->key()), JwsAlgorithm::kES256);
  EXPECT_EQ(*algorithmForKey(p384.get()), JwsAlgorithm::kES384);
}

TEST_F(Jws, EcdsaSignatureIsExactlyRAndS) {
  auto es256 = parseJws(*signJws(ec_->key(), {ec_->certDer()}, "", kClaims));
  ASSERT_TRUE(es256);
  ASSERT_EQ(es256->signature.size(), 64u);
  ParsedJws shorter = *es256;
  shorter.signature.pop_back();
  EXPECT_EQ(verifyJwsSignature(shorter, ec_->key())->reason, "jws_signature");
  ParsedJws longer = *es256;
  longer.signature += '\0';
  EXPECT_EQ(verifyJwsSignature(longer, ec_->key())->reason, "jws_signature");
  // A DER signature (what OpenSSL makes) is not the JOSE form.
  ParsedJws zeros = *es256;
  zeros.signature = std::string(64, '\0');
  EXPECT_EQ(verifyJwsSignature(zeros, ec_->key())->reason, "jws_signature");
}

// RFC 7515 Appendix A.2 (RS256) and A.3 (ES256): the published tokens verify with the published keys.
const char* kRfcPayload = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";

TEST(JwsRfc7515, AppendixA2Rs256Verifies) {
  const std::string n =
      "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-"
      "pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2"
      "CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9g"
      "b54h4FRWyuXpoQ";
  const std::string compact =
      "eyJhbGciOiJSUzI1NiJ9."s + kRfcPayload +
      ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CU"
      "Ar7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO-"
      "-xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_"
      "IoypGlUPQGe77Rw";
  ossl::UniquePtr<EVP_PKEY> key = rsaFromJwk(n, "AQAB");
  JwsLimits limits;
  limits.requireX5c = false;
  auto jws = parseJws(compact, limits);
  ASSERT_TRUE(jws) << jws.error().reason;
  EXPECT_EQ(jws->algorithm, JwsAlgorithm::kRS256);
  EXPECT_EQ(jws->claimsJson, "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}");
  EXPECT_EQ(verifyJwsSignature(*jws, key.get()), std::nullopt);
  ParsedJws other = *jws;
  other.signature[10] ^= 1;
  EXPECT_EQ(verifyJwsSignature(other, key.get())->reason, "jws_signature");
}

TEST(JwsRfc7515, AppendixA3Es256Verifies) {
  const std::string compact = "eyJhbGciOiJFUzI1NiJ9."s + kRfcPayload +
                              ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
  ossl::UniquePtr<EVP_PKEY> key =
      ecFromJwk("P-256", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0");
  JwsLimits limits;
  limits.requireX5c = false;
  auto jws = parseJws(compact, limits);
  ASSERT_TRUE(jws) << jws.error().reason;
  EXPECT_EQ(jws->algorithm, JwsAlgorithm::kES256);
  EXPECT_EQ(verifyJwsSignature(*jws, key.get()), std::nullopt);
  ParsedJws other = *jws;
  other.signingInput += " ";
  EXPECT_EQ(verifyJwsSignature(other, key.get())->reason, "jws_signature");
}

TEST_F(Jws, ThumbprintIsBase64UrlOfSha256OfDer) {
  const std::string der = ec_->certDer();
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  ASSERT_EQ(EVP_Digest(der.data(), der.size(), md, &len, EVP_sha256(), nullptr), 1);
  std::string expected = base64Encode(std::string(reinterpret_cast<char*>(md), len));
  // base64 -> base64url by hand: no padding, '-' and '_'.
  expected.erase(expected.find_last_not_of('=') + 1);
  for (char& c : expected) c = c == '+' ? '-' : c == '/' ? '_' : c;
  EXPECT_EQ(certificateThumbprintS256(ec_->cert()), expected);
  EXPECT_EQ(certificateThumbprintS256(ec_->cert()).size(), 43u);
  EXPECT_EQ(certificateDer(ec_->cert()), der);
}

}  // namespace
}  // namespace hie::auth::udap

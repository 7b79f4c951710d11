#include "auth/tls/expiry.h"

#include <ctime>

#include <gtest/gtest.h>

#include "tests/support/test_pki.h"

namespace hie::auth {
namespace {

using hie::testing::CertSpec;
using hie::testing::CrlSpec;

TlsMaterial materialWith(long nodeSeconds, long crlSeconds, hie::testing::TempDir& dir) {
  auto pki = hie::testing::TestPki::create();
  CertSpec spec;
  spec.commonName = "node";
  spec.notAfterOffsetSeconds = nodeSeconds;
  auto node = pki.leaf(spec);
  CrlSpec crl;
  crl.nextUpdateOffsetSeconds = crlSeconds;
  TlsFiles files{hie::testing::writeFile(dir.path(), "n.crt", pki.chainPem(node)),
                 hie::testing::writeFile(dir.path(), "n.key", node.keyPem()),
                 hie::testing::writeFile(dir.path(), "ca.pem", pki.root.certPem()),
                 hie::testing::writeFile(dir.path(), "c.crl", makeCrlPem(pki.intermediate, crl))};
  auto m = loadTlsMaterial(files);
  EXPECT_TRUE(m) << m.error().internal;
  return std::move(*m);
}

TEST(Expiry, WarnsAtTheSmallestThresholdReached) {
  hie::testing::TempDir dir;
  const auto m = materialWith(5 * 86400, 20 * 86400, dir);
  auto w = expiryWarnings(m, std::time(nullptr), {30, 7, 1});
  ASSERT_EQ(w.size(), 2u);
  EXPECT_NE(w[0].what.find("node certificate"), std::string::npos);
  EXPECT_EQ(w[0].thresholdDays, 7);
  EXPECT_NE(w[1].what.find("CRL of"), std::string::npos);
  EXPECT_EQ(w[1].thresholdDays, 30);
  EXPECT_NE(w[0].key(), w[1].key());
}

TEST(Expiry, NothingWhenFarAwayAndPastIsZero) {
  hie::testing::TempDir dir;
  const auto m = materialWith(90 * 86400, 90 * 86400, dir);
  EXPECT_TRUE(expiryWarnings(m, std::time(nullptr), {30, 7, 1}).empty());
  // Ninety-one days later everything is past.
  auto later = expiryWarnings(m, std::time(nullptr) + 91L * 86400, {30, 7, 1});
  ASSERT_FALSE(later.empty());
  for (const auto& w : later) EXPECT_EQ(w.thresholdDays, 0) << w.what;
}

}  // namespace
}  // namespace hie::auth

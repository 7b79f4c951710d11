// The tlog-witness add-checkpoint body and the 409 size answer: built, parsed,
// and every malformed form refused.
#include "audit/add_checkpoint.h"

#include <gtest/gtest.h>

#include "audit/transparency_log.h"

namespace hie::audit {
namespace {

const std::string kCheckpoint =
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "\xE2\x80\x94 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";

merkle::Hash hashOf(int i) { return merkle::leafHash(std::to_string(i)); }

TEST(AddCheckpoint, TheSpecExampleParses) {
  // c2sp.org/tlog-witness, "add-checkpoint": the example request body.
  const std::string body =
      "old 20852014\n"
      "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
      "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
      "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
      "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
      "\n" +
      kCheckpoint;
  auto r = parseAddCheckpoint(body);
  ASSERT_TRUE(r) << r.error().internal;
  EXPECT_EQ(r->oldSize, 20852014u);
  ASSERT_EQ(r->proof.size(), 4u);
  EXPECT_EQ(merkle::toBase64(r->proof[3]), "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=");
  EXPECT_EQ(r->checkpoint, kCheckpoint);
  EXPECT_EQ(addCheckpointBody(r->oldSize, r->proof, r->checkpoint), body);
}

TEST(AddCheckpoint, TheDocumentedExampleVerifies) {
  // docs/api.md, "The request": the example body, its proof, root and log signature.
  const std::string body =
      "old 5\n"
      "a3K+I9ZQoq7WKHDPbqDV7YBXhVYSTCht9jl2zwYg7Z0=\n"
      "gzq9tBam0L7e6QKvb6X2FvZJ/g9W2ft5V/jXRBjih3g=\n"
      "YaWgfwjFWYJsUiu56Cv3xLMfaWNVmdQzn2UDmmWK158=\n"
      "N/oQtpqQ2xYJfv959cefftRc1MYs1m9Q4Nu9LKeq4tk=\n"
      "\n"
      "hie-node/node-a/audit\n8\nyZkWMhQ6brQvTVBk6acyfaOH5wUi2FXxAhyFWHl0Chc=\n\n"
      "\xE2\x80\x94 hie-node/node-a/audit "
      "RFICRRDJVDyBlNQy2UmLXF9T+Ibj3scbK6v88v7yJzniaxC4lRtUO5fsxcO+inv2CwRQJqCBI91TwyPyhFRYDJ0Kuwo=\n";
  auto request = parseAddCheckpoint(body);
  ASSERT_TRUE(request) << request.error().internal;
  std::vector<merkle::Hash> leaves;
  for (int i = 0; i < 8; ++i) leaves.push_back(merkle::leafHash("{\"index\":" + std::to_string(i) + "}"));
  merkle::MemoryHashSource source(leaves);
  EXPECT_EQ(request->proof, *merkle::consistencyProof(5, 8, source));
  auto key = note::VerifierKey::parse("hie-node/node-a/audit+44520245+AeS8Fg/KbTsYj5c4U2xXjWFFA3TolzSGQ7bvVUJe/DkC");
  ASSERT_TRUE(key);
  auto checkpoint = openCheckpoint(request->checkpoint, *key);
  ASSERT_TRUE(checkpoint) << checkpoint.error().internal;
  EXPECT_EQ(checkpoint->head.size, 8u);
  EXPECT_EQ(checkpoint->head.root, *merkle::rootHash(8, source));
  EXPECT_TRUE(merkle::verifyConsistency(5, 8, request->proof, *merkle::rootHash(5, source), checkpoint->head.root));
}

TEST(AddCheckpoint, BuildsAndParsesBackEveryProofLength) {
  for (std::size_t n : {0u, 1u, 63u}) {
    std::vector<merkle::Hash> proof;
    for (std::size_t i = 0; i < n; ++i) proof.push_back(hashOf(static_cast<int>(i)));
    const std::string body = addCheckpointBody(7, proof, kCheckpoint);
    auto r = parseAddCheckpoint(body);
    ASSERT_TRUE(r) << n << ": " << r.error().internal;
    EXPECT_EQ(r->oldSize, 7u);
    EXPECT_EQ(r->proof, proof);
    EXPECT_EQ(r->checkpoint, kCheckpoint);
  }
  auto zero = parseAddCheckpoint("old 0\n\n" + kCheckpoint);
  ASSERT_TRUE(zero);
  EXPECT_EQ(zero->oldSize, 0u);
  EXPECT_TRUE(zero->proof.empty());
}

TEST(AddCheckpoint, RefusesEveryMalformedBody) {
  std::string proof64;
  for (int i = 0; i < 64; ++i) proof64 += merkle::toBase64(hashOf(i)) + "\n";
  const std::string good = merkle::toBase64(hashOf(1));
  for (const std::string& body : std::vector<std::string>{
           "",
           "\n" + kCheckpoint,
           "old\n\n" + kCheckpoint,
           "old \n\n" + kCheckpoint,
           "old 01\n\n" + kCheckpoint,        // leading zero
           "old -1\n\n" + kCheckpoint,
           "old +1\n\n" + kCheckpoint,
           "old 1 \n\n" + kCheckpoint,
           "Old 1\n\n" + kCheckpoint,
           "old  1\n\n" + kCheckpoint,
           "old 9223372036854775808\n\n" + kCheckpoint,  // 2^63: not a tree size
           "old 99999999999999999999\n\n" + kCheckpoint,
           "old 1\r\n\n" + kCheckpoint,
           "old 1",                             // no newline
           "old 1\n",                           // no empty line
           "old 1\n" + good + "\n",             // no empty line after the proof
           "old 1\n\n",                         // no checkpoint
           "old 1\n" + good.substr(0, 43) + "\n\n" + kCheckpoint,
           "old 1\n" + good + "=\n\n" + kCheckpoint,
           "old 1\n" + good + " \n\n" + kCheckpoint,
           "old 1\nAAAA\n\n" + kCheckpoint,     // base64 of 3 bytes
           "old 1\n" + good.substr(0, 42) + "B=\n\n" + kCheckpoint,  // non-canonical padding bits
           "old 1\n" + proof64 + "\n" + kCheckpoint,                  // 64 proof lines
       }) {
    auto r = parseAddCheckpoint(body);
    EXPECT_FALSE(r) << "accepted: " << body.substr(0, 80);
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
    }
  }
  // The largest tree size a witness stores (a PostgreSQL bigint).
  auto max = parseAddCheckpoint("old 9223372036854775807\n\n" + kCheckpoint);
  ASSERT_TRUE(max);
  EXPECT_EQ(max->oldSize, 9223372036854775807u);
}

TEST(AddCheckpoint, TheSizeAnswerIsOneDecimalLine) {
  EXPECT_EQ(parseTlogSize("0\n").value(), 0u);
  EXPECT_EQ(parseTlogSize("20852163\n").value(), 20852163u);
  for (const char* bad : {"", "\n", "12", "12\n\n", "012\n", " 12\n", "12 \n", "1x\n", "9223372036854775808\n"}) {
    EXPECT_FALSE(parseTlogSize(bad)) << bad;
  }
}

}  // namespace
}  // namespace hie::audit

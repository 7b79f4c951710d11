#include "audit/parallel_signer.h"

#include <gtest/gtest.h>

namespace hie::audit {
namespace {

AuditEvent event(int i) {
  AuditEvent e;
  e.time = "2026-11-26T10:00:00.000Z";
  e.eventType = "rest";
  e.action = "read";
  e.outcome = "success";
  e.organization = "urn:oid:2.16.840.1.113883.3.7001";
  e.requestId = "req-" + std::to_string(i);
  return e;
}

// Links n entries and signs them through the signer; every signature must verify
// against its own entry hash, and the chain must verify as a whole.
void signAndCheck(ParallelSigner& signer, const SigningKey& key, ChainHead& head, int n) {
  std::vector<SealedEntry> entries;
  entries.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) entries.push_back(link(event(i), "node-a", head));
  std::vector<SealedEntry*> pointers;
  for (auto& e : entries) pointers.push_back(&e);
  ASSERT_TRUE(signer.signAll(pointers, key));
  auto verifyKey = VerifyKey::fromPem(key.publicPem());
  ASSERT_TRUE(verifyKey);
  for (const auto& e : entries) {
    ASSERT_FALSE(e.signature.empty()) << "entry " << e.seq << " left unsigned";
    EXPECT_TRUE(verifyKey->verify(entrySignatureInput(e.hash), e.signature)) << "entry " << e.seq;
  }
}

class ParallelSignerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(key);
    head.chain = "node-a/2026-11-26T10-00-00Z/abcdef012345";
  }
  Result<SigningKey> key = SigningKey::generate();
  ChainHead head;
};

TEST_F(ParallelSignerTest, SignsEveryEntryOfBatchesOfAnySize) {
  ParallelSigner signer(3);
  // Many consecutive jobs of varying sizes exercise the hand-over between jobs.
  std::int64_t total = 0;
  for (int round = 0; round < 200; ++round) {
    signAndCheck(signer, *key, head, round % 17);
    total += round % 17;
  }
  EXPECT_EQ(head.seq, total);
}

TEST_F(ParallelSignerTest, WithoutHelpersTheCallerSignsAlone) {
  ParallelSigner signer(0);
  signAndCheck(signer, *key, head, 9);
}

TEST_F(ParallelSignerTest, SignedEntriesMatchSealedOnes) {
  // link() + signEntry() is exactly seal(): the same chain verifies either way.
  ChainHead a = head;
  ChainHead b = head;
  ChainVerifier v(*VerifyKey::fromPem(key->publicPem()));
  for (int i = 0; i < 5; ++i) {
    auto sealed = seal(event(i), "node-a", a, *key);
    ASSERT_TRUE(sealed);
    SealedEntry linked = link(event(i), "node-a", b);
    ASSERT_TRUE(signEntry(linked, *key));
    EXPECT_EQ(sealed->hash, linked.hash);
    EXPECT_EQ(sealed->canonical, linked.canonical);
    EXPECT_EQ(sealed->signature, linked.signature);  // Ed25519 is deterministic
    EXPECT_TRUE(v.feed(linked));
  }
  EXPECT_TRUE(v.problems().empty());
}

}  // namespace
}  // namespace hie::audit

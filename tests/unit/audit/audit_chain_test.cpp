#include "audit/audit_chain.h"

#include <gtest/gtest.h>

#include "audit/audit_writer.h"

namespace hie::audit {
namespace {

AuditEvent event(int i) {
  AuditEvent e;
  e.time = "2026-11-26T10:00:0" + std::to_string(i % 10) + ".000Z";
  e.eventType = "rest";
  e.action = "read";
  e.outcome = "success";
  e.organization = "urn:oid:2.16.840.1.113883.3.7001";
  e.resourceType = "Patient";
  e.resourceId = "p-" + std::to_string(i);
  e.patient = "Patient/p-" + std::to_string(i);
  e.purpose = "TREAT";
  e.httpStatus = 200;
  e.requestId = "req-" + std::to_string(i);
  return e;
}

class AuditChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    head.chain = "node-a/2026-11-26T10-00-00Z/abcdef012345";
    for (int i = 1; i <= 5; ++i) {
      auto e = seal(event(i), "node-a", head, *key);
      ASSERT_TRUE(e);
      entries.push_back(*e);
    }
  }

  std::vector<ChainVerifier::Problem> verify(const std::vector<SealedEntry>& list,
                                             const std::vector<Checkpoint>& checkpoints = {}) {
    ChainVerifier v(*VerifyKey::fromPem(key->publicPem()));
    for (const auto& e : list) v.feed(e);
    for (const auto& c : checkpoints) v.checkCheckpoint(c);
    return v.problems();
  }

  Result<SigningKey> key = SigningKey::generate();
  ChainHead head;
  std::vector<SealedEntry> entries;
};

TEST_F(AuditChainTest, AnIntactChainVerifies) {
  EXPECT_TRUE(verify(entries).empty());
  EXPECT_EQ(entries.front().prevHash, kGenesisHash);
  EXPECT_EQ(entries[1].prevHash, entries[0].hash);
  EXPECT_EQ(head.seq, 5);
}

TEST_F(AuditChainTest, CanonicalFormIsPinned) {
  // The exact bytes of docs/audit-format.md: sorted keys, no spaces, printable ASCII.
  ChainHead h;
  h.chain = "c";
  AuditEvent e;
  e.time = "2026-01-02T03:04:05.678Z";
  e.action = "read";
  e.path = "/fhir/Patient/\xe9t\"\\%";
  auto sealed = seal(e, "n", h, *key);
  ASSERT_TRUE(sealed);
  EXPECT_EQ(sealed->canonical,
            "{\"action\":\"read\",\"breakGlass\":false,\"causedBy\":\"\",\"certSha256\":\"\",\"chain\":\"c\","
            "\"entities\":\"\",\"eventType\":\"\",\"httpStatus\":0,\"issuerDn\":\"\",\"latencyMicros\":0,"
            "\"method\":\"\",\"node\":\"n\",\"organization\":\"\",\"outcome\":\"\",\"outcomeReason\":\"\","
            "\"path\":\"/fhir/Patient/%E9t\\\"\\\\%25\",\"patient\":\"\",\"patientQuery\":\"\",\"peerOrganization\":\"\","
            "\"purpose\":\"\",\"remoteAddress\":\"\",\"requestId\":\"\",\"resourceId\":\"\",\"resourceType\":\"\","
            "\"resultCount\":0,\"seq\":1,\"subjectDn\":\"\",\"time\":\"2026-01-02T03:04:05.678Z\"}");
  EXPECT_EQ(sealed->hash, sha256Hex(std::string("hie-audit-entry-v1\n") + kGenesisHash + "\n" + sealed->canonical));
}

TEST_F(AuditChainTest, AChangedByteAnywhereInTheContentIsDetected) {
  for (std::size_t pos = 0; pos < entries[2].canonical.size(); ++pos) {
    auto tampered = entries;
    char& c = tampered[2].canonical[pos];
    c = c == 'x' ? 'y' : 'x';
    auto problems = verify(tampered);
    ASSERT_FALSE(problems.empty()) << "byte " << pos << " of " << entries[2].canonical;
    EXPECT_EQ(problems.front().seq, 3);
  }
}

TEST_F(AuditChainTest, ChangedHashOrSignatureIsDetected) {
  auto badHash = entries;
  badHash[1].hash[0] = badHash[1].hash[0] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(verify(badHash).empty());
  auto badSig = entries;
  badSig[1].signature[3] = badSig[1].signature[3] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verify(badSig).empty());
}

TEST_F(AuditChainTest, ADeletedMiddleEntryIsDetected) {
  auto tampered = entries;
  tampered.erase(tampered.begin() + 2);
  auto problems = verify(tampered);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems.front().seq, 4);
  EXPECT_EQ(problems.front().kind, ChainVerifier::Kind::kGap);
  EXPECT_EQ(problems.front().what, "entry 3 is missing (deleted)");
}

// (seq, kind) of every problem, in the order reported.
std::vector<std::pair<std::int64_t, std::string>> kinds(const std::vector<ChainVerifier::Problem>& problems) {
  std::vector<std::pair<std::int64_t, std::string>> out;
  for (const auto& p : problems) out.emplace_back(p.seq, problemKindName(p.kind));
  return out;
}

TEST_F(AuditChainTest, EveryKindOfDamageInOneChainIsReportedAndNothingElse) {
  // Ten entries, and checkpoints of entries 6 and 10 signed while the chain was whole.
  for (int i = 6; i <= 10; ++i) entries.push_back(*seal(event(i), "node-a", head, *key));
  ChainHead at6{head.chain, 6, entries[5].hash};
  const auto cp6 = signCheckpoint(at6, "node-a", "2026-11-26T10:00:06.000Z", *key);
  const auto cp10 = signCheckpoint(head, "node-a", "2026-11-26T10:00:10.000Z", *key);
  ASSERT_TRUE(cp6 && cp10);
  auto damaged = entries;
  damaged[1].canonical.replace(damaged[1].canonical.find("TREAT"), 5, "HPAYM");      // entry 2 altered
  damaged[3].signature[5] = damaged[3].signature[5] == 'A' ? 'B' : 'A';             // entry 4: another signature
  damaged[7].canonical.replace(damaged[7].canonical.find("p-8"), 3, "p-9");          // entry 8 altered
  damaged.erase(damaged.begin() + 5);                                                // entry 6 deleted
  const std::vector<std::pair<std::int64_t, std::string>> expected{
      {2, "hash-mismatch"}, {4, "bad-signature"}, {7, "gap"}, {8, "hash-mismatch"}, {6, "gap"}};
  auto problems = verify(damaged, {*cp10, *cp6});
  EXPECT_EQ(kinds(problems), expected);
  ASSERT_EQ(problems.size(), expected.size());
  EXPECT_EQ(problems[2].what, "entry 6 is missing (deleted)");
  EXPECT_EQ(problems[4].what, "entry 6, which the checkpoint covers, is missing");

  // The same damage with the last two entries cut off: now, and only now, the chain is truncated.
  damaged.resize(damaged.size() - 2);
  auto expectedCut = expected;
  expectedCut.insert(expectedCut.end() - 1, {10, "truncated"});
  problems = verify(damaged, {*cp10, *cp6});
  EXPECT_EQ(kinds(problems), expectedCut);
  ASSERT_EQ(problems.size(), expectedCut.size());
  EXPECT_EQ(problems[4].what, "chain truncated: the checkpoint covers entry 10 but the chain ends at entry 8");
}

TEST_F(AuditChainTest, AReHashedEntryFailsItsSignatureAndTheNextLink) {
  // Content and hash changed consistently: only the signature and entry 4's link can tell.
  auto tampered = entries;
  tampered[2].canonical.replace(tampered[2].canonical.find("TREAT"), 5, "HPAYM");
  tampered[2].hash = entryHash(tampered[2].prevHash, tampered[2].canonical);
  const std::vector<std::pair<std::int64_t, std::string>> expected{{3, "bad-signature"}, {4, "broken-link"}};
  EXPECT_EQ(kinds(verify(tampered)), expected);
}

TEST_F(AuditChainTest, SeveralGapsAndARepeatedEntryAreEachReported) {
  auto tampered = entries;
  tampered.erase(tampered.begin() + 3);  // entry 4
  tampered.erase(tampered.begin());      // entry 1
  tampered.push_back(entries[2]);        // entry 3 again, after 5
  const std::vector<std::pair<std::int64_t, std::string>> expected{{2, "gap"}, {5, "gap"}, {3, "out-of-order"}};
  auto problems = verify(tampered);
  EXPECT_EQ(kinds(problems), expected);
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_EQ(problems[0].what, "entry 1 is missing (deleted)");
}

TEST_F(AuditChainTest, SwappedEntriesAreDetected) {
  auto tampered = entries;
  std::swap(tampered[1], tampered[2]);
  EXPECT_FALSE(verify(tampered).empty());
  // Swapping contents but keeping the sequence numbers in place breaks the links too.
  auto relabelled = entries;
  std::swap(relabelled[1].canonical, relabelled[2].canonical);
  EXPECT_FALSE(verify(relabelled).empty());
}

TEST_F(AuditChainTest, AnEntryResealedWithAnotherKeyIsDetected) {
  auto other = SigningKey::generate();
  ChainHead h{head.chain, 3, entries[2].hash};
  auto forged = seal(event(99), "node-a", h, *other);
  ASSERT_TRUE(forged);
  auto tampered = entries;
  tampered[3] = *forged;
  tampered.pop_back();
  auto problems = verify(tampered);
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems.front().what.find("signature"), std::string::npos);
}

TEST_F(AuditChainTest, TruncationIsDetectedAgainstACheckpoint) {
  auto cp = signCheckpoint(head, "node-a", "2026-11-26T10:00:10.000Z", *key);
  ASSERT_TRUE(cp);
  EXPECT_TRUE(verify(entries, {*cp}).empty());
  auto truncated = entries;
  truncated.resize(3);
  auto problems = verify(truncated, {*cp});
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems.front().what.find("truncated"), std::string::npos);
  // A rewritten tail with the same length is detected as well.
  ChainHead h{head.chain, 3, entries[2].hash};
  std::vector<SealedEntry> rewritten(entries.begin(), entries.begin() + 3);
  for (int i = 0; i < 2; ++i) rewritten.push_back(*seal(event(50 + i), "node-a", h, *key));
  problems = verify(rewritten, {*cp});
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems.front().what.find("rewritten"), std::string::npos);
}

TEST_F(AuditChainTest, CheckpointRoundTripsAndItsSignatureIsChecked) {
  auto cp = signCheckpoint(head, "node-a", "2026-11-26T10:00:10.000Z", *key);
  ASSERT_TRUE(cp);
  auto parsed = Checkpoint::fromJson(cp->toJson());
  ASSERT_TRUE(parsed) << cp->toJson();
  EXPECT_EQ(parsed->toJson(), cp->toJson());
  Checkpoint forged = *parsed;
  forged.seq = 2;
  auto problems = verify(entries, {forged});
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems.front().what.find("checkpoint signature"), std::string::npos);
  EXPECT_FALSE(Checkpoint::fromJson("{}"));
  EXPECT_FALSE(Checkpoint::fromJson("garbage"));
}

TEST(AuditCanonical, UntrustedBytesAreStoredAsTheSpecSays) {
  // docs/audit-format.md, "Strings": the examples it gives.
  EXPECT_EQ(printableAscii("TR\xC3\xA9" "AT"), "TR%C3%A9AT");
  EXPECT_EQ(printableAscii("TR\x7F" "AT"), "TR%7FAT");
  EXPECT_EQ(printableAscii("100%"), "100%25");
  EXPECT_EQ(printableAscii("a b/c\"q\\~"), "a b/c\"q\\~");
  EXPECT_EQ(printableAscii(std::string("\n\x01\0\xff", 4)), "%0A%01%00%FF");
  // Every byte value, written from the rule: 0x20-0x7E except '%' as is, all else %XX upper-case.
  for (int b = 0; b < 256; ++b) {
    const std::string in(1, static_cast<char>(b));
    char hex[4];
    std::snprintf(hex, sizeof hex, "%%%02X", b);
    EXPECT_EQ(printableAscii(in), b >= 0x20 && b <= 0x7e && b != '%' ? in : std::string(hex)) << b;
  }
  // An entry built from hostile fields holds the same bytes, and its JSON escapes only '"' and '\'.
  AuditEvent e;
  e.purpose = "TR\xC3\xA9" "AT";
  e.subjectDn = "CN=\x7F\"";
  const std::string canonical = canonicalJson(entryObject(e, "n", "c", 1));
  EXPECT_NE(canonical.find("\"purpose\":\"TR%C3%A9AT\""), std::string::npos) << canonical;
  EXPECT_NE(canonical.find("\"subjectDn\":\"CN=%7F\\\"\""), std::string::npos) << canonical;
}

TEST(AuditCanonical, ANodeIdIsEncodedOnceInAV1Entry) {
  auto key = SigningKey::generate();
  ASSERT_TRUE(key);
  const std::string node = "a%b c/\xC3\xA9" + std::string(80, 'x');
  ChainHead head;
  head.chain = "a_b_c/2026-01-02T03-04-05Z/000000000001";
  AuditEvent e;
  e.time = "2026-01-02T03:04:05.678Z";
  auto sealed = seal(e, node, head, *key);
  ASSERT_TRUE(sealed);
  ChainVerifier v(*VerifyKey::fromPem(key->publicPem()));
  EXPECT_TRUE(v.feed(*sealed)) << (v.problems().empty() ? "" : v.problems()[0].what);
  EXPECT_NE(sealed->canonical.find("\"node\":\"a%25b c/%C3%A9x"), std::string::npos) << sealed->canonical;
}

TEST(AuditCanonical, LongValuesAreCutAtTheLimitNeverInsideAnEscape) {
  EXPECT_EQ(printableAscii(std::string(5000, 'a')), std::string(2048, 'a'));
  EXPECT_EQ(printableAscii(std::string(2048, 'a')), std::string(2048, 'a'));
  EXPECT_EQ(printableAscii(std::string(2045, 'a') + "\x01"), std::string(2045, 'a') + "%01");
  EXPECT_EQ(printableAscii(std::string(2046, 'a') + "\x01z"), std::string(2046, 'a'));
  EXPECT_EQ(printableAscii(std::string(2047, 'a') + "%"), std::string(2047, 'a'));
  EXPECT_EQ(printableAscii(std::string(3000, '\x80')).size(), 2046u);
  AuditEvent e;
  e.entities = std::string(20000, 'x');
  e.path = std::string(20000, 'p');
  const CanonicalObject o = entryObject(e, "n", "c", 1);
  EXPECT_EQ(std::get<std::string>(o.at("entities")).size(), 16384u);
  EXPECT_EQ(std::get<std::string>(o.at("path")).size(), 2048u);
}

TEST(AuditSigning, SignatureRoundTripAndKeyChecks) {
  auto key = SigningKey::generate();
  ASSERT_TRUE(key);
  auto sig = key->sign("message");
  ASSERT_TRUE(sig);
  auto pub = VerifyKey::fromPem(key->publicPem());
  ASSERT_TRUE(pub);
  EXPECT_TRUE(pub->verify("message", *sig));
  EXPECT_FALSE(pub->verify("messagE", *sig));
  EXPECT_FALSE(pub->verify("message", "not base64!"));
  EXPECT_TRUE(VerifyKey::fromPem(key->privatePem()));  // a private key file carries the public key
  EXPECT_FALSE(SigningKey::fromPem("nonsense"));
  auto reloaded = SigningKey::fromPem(key->privatePem());
  ASSERT_TRUE(reloaded);
  EXPECT_EQ(reloaded->publicPem(), key->publicPem());
}

TEST(AuditChainLimits, LongHostileRowsAreRefusedWithoutExhaustingTheStack) {
  // A stored row several megabytes long (std::regex recursed once per character here).
  const std::string huge(4 << 20, 'a');
  EXPECT_FALSE(Checkpoint::fromJson("{\"chain\":\"" + huge + "\"}"));
  auto key = SigningKey::generate();
  ASSERT_TRUE(key);
  ChainVerifier v(*VerifyKey::fromPem(key->publicPem()));
  SealedEntry e{"c", 1, kGenesisHash, "h", "s", "{\"chain\":\"" + huge + "\",\"seq\":" + huge + "}"};
  EXPECT_FALSE(v.feed(e));
  const std::vector<std::pair<std::int64_t, std::string>> expected{
      {1, "misplaced"}, {1, "hash-mismatch"}, {1, "bad-signature"}};
  EXPECT_EQ(kinds(v.problems()), expected);
}

}  // namespace
}  // namespace hie::audit

// Verifier-key types, and the auditor's count of known witnesses that validly
// cosigned a checkpoint: unknown keys ignored, each witness once, a known
// witness's bad cosignature refuses the whole checkpoint.
#include "audit/witness_policy.h"

#include <gtest/gtest.h>

#include "audit/transparency_log.h"

namespace hie::audit {
namespace {

struct Party {
  SigningKey key;
  note::VerifierKey vkey;
};

Party party(const std::string& name, unsigned char type) {
  auto key = SigningKey::generate();
  auto pub = VerifyKey::fromRaw(key->rawPublicKey());
  return Party{*key, note::VerifierKey::of(name, type, *pub)};
}

class WitnessPolicy : public ::testing::Test {
 protected:
  void SetUp() override {
    TreeHead head;
    head.origin = "hie-node/node-a/audit";
    head.size = 5;
    head.root = merkle::leafHash("root");
    auto cp = signTreeHead(head, log.key);
    ASSERT_TRUE(cp);
    checkpoint = *cp;
  }
  std::string cosignature(const Party& p, std::uint64_t time = 1700000000) {
    return *note::cosign(checkpoint.head.text(), time, p.vkey.name, p.key);
  }

  Party log = party("hie-node/node-a/audit", note::kEd25519);
  Party b = party("hie-node/node-b/witness", note::kCosignatureV1);
  Party c = party("hie-node/node-c/witness", note::kCosignatureV1);
  Party stranger = party("witness.example/w1", note::kCosignatureV1);
  SignedCheckpoint checkpoint;
};

TEST_F(WitnessPolicy, KeyTypesAreChecked) {
  EXPECT_TRUE(parseVerifierKeyOfType(log.vkey.text(), note::kEd25519, "log key"));
  EXPECT_TRUE(parseVerifierKeyOfType(b.vkey.text(), note::kCosignatureV1, "witness key"));
  auto wrong = parseVerifierKeyOfType(b.vkey.text(), note::kEd25519, "--log-key");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().external,
            "--log-key must be an Ed25519 log key (type 01), not a cosignature/v1 witness key (type 04)");
  auto malformed = parseVerifierKeyOfType("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2", note::kEd25519,
                                          "--log-key");
  ASSERT_FALSE(malformed);
  EXPECT_EQ(malformed.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(malformed.error().external.rfind("--log-key: ", 0), 0u) << malformed.error().external;
  // The signed-note specification's example key.
  EXPECT_TRUE(parseVerifierKeyOfType("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
                                     note::kEd25519, "log key"));
}

TEST_F(WitnessPolicy, VerifierKeysWhoseBase64HoldsAPlusParse) {
  // The base64 of a key holds '+' about every other key; only the name may not.
  int withPlus = 0;
  for (int i = 0; i < 40; ++i) {
    const Party p = party("hie-node/node-" + std::to_string(i) + "/witness", note::kCosignatureV1);
    const std::string text = p.vkey.text();
    if (text.find('+', text.find('+', text.find('+') + 1) + 1) != std::string::npos) ++withPlus;
    auto parsed = note::VerifierKey::parse(text);
    ASSERT_TRUE(parsed) << text << ": " << parsed.error().internal;
    EXPECT_EQ(parsed->text(), text);
    EXPECT_EQ(parsed->publicKey, p.vkey.publicKey);
  }
  EXPECT_GT(withPlus, 0) << "no key of 40 had a '+' in its base64: the case is untested";
  // Still three parts: a name with a '+' cannot be told apart from its id, and is refused.
  EXPECT_FALSE(note::VerifierKey::parse("a+b+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"));
  EXPECT_FALSE(note::VerifierKey::parse("example.com/foo+530d903a"));
}

TEST_F(WitnessPolicy, CountsDistinctKnownWitnessesInTheNoteAndBeside) {
  // B's cosignature inside the note, C's stored beside it, a stranger's ignored.
  const std::string note = checkpoint.note + cosignature(b) + "\n" + cosignature(stranger) + "\n";
  auto found = knownCosignatures(note, {cosignature(c, 1700000001)}, {b.vkey, c.vkey});
  ASSERT_TRUE(found) << found.error().internal;
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ((*found)[0].key.name, "hie-node/node-b/witness");
  EXPECT_EQ((*found)[0].timestamp, 1700000000u);
  EXPECT_EQ((*found)[1].key.name, "hie-node/node-c/witness");
  EXPECT_EQ((*found)[1].timestamp, 1700000001u);

  // Twice the same witness (two cosignatures, the key listed twice) is one witness.
  auto once = knownCosignatures(note, {cosignature(b, 1700000005)}, {b.vkey, b.vkey});
  ASSERT_TRUE(once);
  EXPECT_EQ(once->size(), 1u);

  // Nothing known: none, and the log's own signature never counts as a witness.
  auto none = knownCosignatures(checkpoint.note, {cosignature(stranger)}, {b.vkey, c.vkey});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(WitnessPolicy, AKnownWitnessWhoseCosignatureFailsRefusesTheCheckpoint) {
  // C's key name and id, but a signature that is not C's: the line claims to be C's.
  auto line = note::parseSignatureLines(cosignature(c) + "\n");
  ASSERT_TRUE(line);
  std::string forged = line->front().signature;
  forged[20] = static_cast<char>(forged[20] ^ 1);
  const std::string impostor = note::signatureLine(c.vkey.name, c.vkey.id, forged);
  auto bad = knownCosignatures(checkpoint.note, {cosignature(b), impostor}, {b.vkey, c.vkey});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(bad.error().internal.find("hie-node/node-c/witness"), std::string::npos) << bad.error().internal;

  // A cosignature of another checkpoint (same origin, other size) does not verify either.
  TreeHead other = checkpoint.head;
  other.size = 6;
  const std::string elsewhere = *note::cosign(other.text(), 1700000000, b.vkey.name, b.key);
  EXPECT_FALSE(knownCosignatures(checkpoint.note, {elsewhere}, {b.vkey}));
  // The same key name with another id is another key: ignored, not refused.
  Party renamed = party("hie-node/node-c/witness", note::kCosignatureV1);
  auto ignored = knownCosignatures(checkpoint.note, {cosignature(renamed)}, {c.vkey});
  ASSERT_TRUE(ignored);
  EXPECT_TRUE(ignored->empty());
}

TEST_F(WitnessPolicy, MalformedInputAndNonWitnessKeysAreRefused) {
  EXPECT_FALSE(knownCosignatures("not a note", {}, {b.vkey}));
  EXPECT_FALSE(knownCosignatures(checkpoint.note, {"\xE2\x80\x94 bad"}, {b.vkey}));
  // A log key (type 01) is not a witness key.
  EXPECT_FALSE(knownCosignatures(checkpoint.note, {}, {log.vkey}));
  // A note that is not a checkpoint.
  auto text = note::signText("hello\n", log.vkey.name, log.key);
  EXPECT_FALSE(knownCosignatures("hello\n\n" + *text + "\n", {}, {b.vkey}));
}

}  // namespace
}  // namespace hie::audit

// audit/signed_note against the C2SP specifications: the example vkey and note of
// signed-note.md, the example checkpoint of tlog-checkpoint.md, key ids recomputed
// independently, cosignature/v1 round trips, and the refusals.
#include "audit/signed_note.h"

#include <openssl/evp.h>

#include <gtest/gtest.h>

#include "audit/transparency_log.h"

namespace hie::audit {
namespace {

// signed-note.md, "Example".
const std::string kExampleVkey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
const std::string kExampleNote =
    "This is an example message.\n"
    "\n"
    "\xE2\x80\x94 example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

std::string sha256(const std::string& data) {
  unsigned char out[32];
  unsigned int len = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr), 1);
  return std::string(reinterpret_cast<char*>(out), 32);
}

TEST(SignedNote, TheSpecificationsExampleKeyVerifiesItsExampleNote) {
  auto key = note::VerifierKey::parse(kExampleVkey);
  ASSERT_TRUE(key) << key.error().internal;
  EXPECT_EQ(key->name, "example.com/foo");
  EXPECT_EQ(key->type, note::kEd25519);
  EXPECT_EQ(key->id, 0x530d903au);
  EXPECT_EQ(key->text(), kExampleVkey);
  // The key id, computed here from its definition: SHA-256(name || 0x0A || 0x01 || key)[:4].
  const std::string digest = sha256("example.com/foo\n\x01" + key->publicKey);
  EXPECT_EQ(note::keyId(key->name, note::kEd25519, key->publicKey),
            (std::uint32_t{static_cast<unsigned char>(digest[0])} << 24) |
                (std::uint32_t{static_cast<unsigned char>(digest[1])} << 16) |
                (std::uint32_t{static_cast<unsigned char>(digest[2])} << 8) | static_cast<unsigned char>(digest[3]));

  auto parsed = note::parse(kExampleNote);
  ASSERT_TRUE(parsed) << parsed.error().internal;
  EXPECT_EQ(parsed->text, "This is an example message.\n");
  ASSERT_EQ(parsed->signatures.size(), 1u);
  const auto& line = parsed->signatures[0];
  EXPECT_EQ(line.name, "example.com/foo");
  EXPECT_EQ(line.keyId, 0x530d903au);
  EXPECT_EQ(line.signature.size(), 64u);
  EXPECT_TRUE(note::verifyText(parsed->text, line, *key));
  EXPECT_FALSE(note::verifyText("This is an example message!\n", line, *key));
  EXPECT_EQ(note::signatureLine(line.name, line.keyId, line.signature), line.line);
  EXPECT_EQ(line.line + "\n", kExampleNote.substr(kExampleNote.find("\xE2\x80\x94")));
}

TEST(SignedNote, TheSpecificationsExampleCheckpointParses) {
  // tlog-checkpoint.md's example (its signature is by a key we do not have).
  const std::string text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
  auto parsed = note::parse(text + "\n\xE2\x80\x94 example.com/behind-the-sofa "
                                   "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+"
                                   "xeMcTOAYQ8=\n");
  ASSERT_TRUE(parsed) << parsed.error().internal;
  auto head = TreeHead::parse(parsed->text);
  ASSERT_TRUE(head) << head.error().internal;
  EXPECT_EQ(head->origin, "example.com/behind-the-sofa");
  EXPECT_EQ(head->size, 20852163u);
  EXPECT_EQ(merkle::toBase64(head->root), "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=");
  EXPECT_EQ(head->text(), text);
}

TEST(SignedNote, ACheckpointSignedByTheLogOpensWithItsKeyOnly) {
  auto key = SigningKey::generate();
  auto other = SigningKey::generate();
  ASSERT_TRUE(key && other);
  TreeHead head{"hie-node/node-a/audit", 3, merkle::leafHash("x")};
  auto cp = signTreeHead(head, *key);
  ASSERT_TRUE(cp);
  EXPECT_EQ(cp->note.substr(0, head.text().size() + 1), head.text() + "\n");
  auto pub = VerifyKey::fromRaw(key->rawPublicKey());
  auto otherPub = VerifyKey::fromRaw(other->rawPublicKey());
  ASSERT_TRUE(pub && otherPub);
  const auto logKey = note::VerifierKey::of(head.origin, note::kEd25519, *pub);
  // The vkey text round-trips, and names the log by its origin.
  auto reparsed = note::VerifierKey::parse(logKey.text());
  ASSERT_TRUE(reparsed);
  EXPECT_EQ(reparsed->publicKey, key->rawPublicKey());
  auto opened = openCheckpoint(cp->note, logKey);
  ASSERT_TRUE(opened) << opened.error().internal;
  EXPECT_EQ(opened->head.size, 3u);
  // Another key: its signature line is unknown to this vkey, so nothing verifies.
  auto foreign = signTreeHead(head, *other);
  ASSERT_TRUE(foreign);
  EXPECT_FALSE(openCheckpoint(foreign->note, logKey));
  // The log's name and key id with a bad signature: refused, even next to a good one.
  const std::string good = cp->note.substr(cp->note.find("\n\n") + 2);
  auto forgedLine = note::signatureLine(head.origin, logKey.id, std::string(64, 'x'));
  EXPECT_FALSE(openCheckpoint(head.text() + "\n" + forgedLine + "\n" + good, logKey));
  // Unknown signatures around the log's are ignored.
  auto withOther = openCheckpoint(cp->note + foreign->note.substr(foreign->note.find("\n\n") + 2), logKey);
  EXPECT_TRUE(withOther) << withOther.error().internal;
  // Another origin than the key's name.
  EXPECT_FALSE(openCheckpoint(cp->note, note::VerifierKey::of("hie-node/node-b/audit", note::kEd25519, *pub)));
  // An altered tree size.
  std::string altered = cp->note;
  altered.replace(altered.find("\n3\n"), 3, "\n4\n");
  EXPECT_FALSE(openCheckpoint(altered, logKey));
}

TEST(SignedNote, CosignatureRoundTrip) {
  auto witness = SigningKey::generate();
  auto other = SigningKey::generate();
  ASSERT_TRUE(witness && other);
  auto pub = VerifyKey::fromRaw(witness->rawPublicKey());
  ASSERT_TRUE(pub);
  const auto vkey = note::VerifierKey::of("witness.example/w1", note::kCosignatureV1, *pub);
  EXPECT_EQ(vkey.text().substr(0, 19), "witness.example/w1+");
  auto parsedVkey = note::VerifierKey::parse(vkey.text());
  ASSERT_TRUE(parsedVkey);
  EXPECT_EQ(parsedVkey->type, note::kCosignatureV1);
  const std::string text = "hie-node/node-a/audit\n3\n" + merkle::toBase64(merkle::leafHash("x")) + "\n";
  EXPECT_EQ(note::cosignatureMessage(text, 1679315147), "cosignature/v1\ntime 1679315147\n" + text);
  auto line = note::cosign(text, 1679315147, vkey.name, *witness);
  ASSERT_TRUE(line);
  auto lines = note::parseSignatureLines(*line + "\n");
  ASSERT_TRUE(lines);
  ASSERT_EQ(lines->size(), 1u);
  const auto& sig = (*lines)[0];
  EXPECT_EQ(sig.keyId, vkey.id);
  ASSERT_EQ(sig.signature.size(), 72u);  // u64 timestamp || Ed25519 signature
  EXPECT_EQ(sig.signature.substr(0, 8), std::string("\0\0\0\0\x64\x18\x50\xcb", 8));  // 1679315147 big-endian
  // The signature is plain Ed25519 over the cosignature/v1 message.
  EXPECT_TRUE(pub->verifyRaw(note::cosignatureMessage(text, 1679315147), sig.signature.substr(8)));
  std::uint64_t timestamp = 0;
  EXPECT_TRUE(note::verifyCosignature(text, sig, vkey, timestamp));
  EXPECT_EQ(timestamp, 1679315147u);
  // Another checkpoint, another key, or the key as an Ed25519 (0x01) note key: no.
  EXPECT_FALSE(note::verifyCosignature(text + "x\n", sig, vkey, timestamp));
  auto otherPub = VerifyKey::fromRaw(other->rawPublicKey());
  ASSERT_TRUE(otherPub);
  EXPECT_FALSE(note::verifyCosignature(text, sig, note::VerifierKey::of(vkey.name, note::kCosignatureV1, *otherPub),
                                       timestamp));
  EXPECT_FALSE(note::verifyCosignature(text, sig, note::VerifierKey::of(vkey.name, note::kEd25519, *pub), timestamp));
  EXPECT_NE(note::VerifierKey::of(vkey.name, note::kEd25519, *pub).id, vkey.id);
  // A cosignature is no note signature of the log, nor the reverse.
  EXPECT_FALSE(note::verifyText(text, sig, vkey));
}

TEST(SignedNote, AVerifierKeyWhoseBase64HoldsAPlusParses) {
  // The key's base64 may hold '+' (about half of all keys do): only the first two '+' separate parts.
  for (int tries = 0; tries < 200; ++tries) {
    auto key = SigningKey::generate();
    ASSERT_TRUE(key);
    auto pub = VerifyKey::fromRaw(key->rawPublicKey());
    ASSERT_TRUE(pub);
    const auto vkey = note::VerifierKey::of("hie-node/node-a/audit", note::kEd25519, *pub);
    const std::string text = vkey.text();
    const std::size_t second = text.find('+', text.find('+') + 1);
    if (text.find('+', second + 1) == std::string::npos) continue;  // no '+' in this key's base64
    auto parsed = note::VerifierKey::parse(text);
    ASSERT_TRUE(parsed) << text << ": " << parsed.error().internal;
    EXPECT_EQ(parsed->publicKey, key->rawPublicKey());
    EXPECT_EQ(parsed->id, vkey.id);
    EXPECT_EQ(parsed->text(), text);
    return;
  }
  FAIL() << "200 keys without a '+' in their base64";
}

TEST(SignedNote, MalformedVerifierKeysAreRefused) {
  const std::string b64 = kExampleVkey.substr(kExampleVkey.rfind('+') + 1);
  for (const std::string& bad : {
           std::string("example.com/foo+530d903b+") + b64,        // wrong id
           std::string("example.com/bar+530d903a+") + b64,        // id of another name
           std::string("example.com/foo+530D903A+") + b64,        // upper-case hex
           std::string("example.com/foo+530d903a"),               // two parts
           std::string("example.com/foo+530d903a+") + b64 + "+",  // a "+" after the key: not base64
           std::string("+530d903a+") + b64,                       // no name
           std::string("exa mple+530d903a+") + b64,               // a space in the name
           std::string("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2"),  // not base64 of 33
           std::string("example.com/foo+530d903a+AgkyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"),  // type 02
       }) {
    EXPECT_FALSE(note::VerifierKey::parse(bad)) << bad;
  }
}

TEST(SignedNote, MalformedNotesAreRefused) {
  const std::string sigLine = kExampleNote.substr(kExampleNote.find("\xE2\x80\x94"));
  for (const std::string& bad : {
           std::string("text\n") + sigLine,                    // no empty line
           std::string("text\n\n"),                            // no signature
           std::string("te\txt\n\n") + sigLine,                // a control character
           std::string("text\n\n") + sigLine.substr(0, sigLine.size() - 1),  // no final newline
           std::string("text\n\n- example.com/foo AAAAAAAA\n"),            // not an em dash
           std::string("text\n\n\xE2\x80\x94 example.com/foo AAAA\n"),     // fewer than 5 bytes
           std::string("text\n\n\xE2\x80\x94 example.com/foo AAAAAAAA=\n"),  // not base64
           std::string("text\n\n\xE2\x80\x94 exa+mple AAAAAAAA\n"),        // '+' in the name
       }) {
    EXPECT_FALSE(note::parse(bad)) << bad;
  }
  std::string many = "text\n\n";
  for (int i = 0; i < 101; ++i) many += sigLine;
  EXPECT_FALSE(note::parse(many));
  // The text may hold empty lines: it ends at the last one.
  auto blank = note::parse("a\n\nb\n\n" + sigLine);
  ASSERT_TRUE(blank);
  EXPECT_EQ(blank->text, "a\n\nb\n");
}

TEST(SignedNote, MalformedCheckpointTextsAreRefused) {
  const std::string root = merkle::toBase64(merkle::leafHash("x"));
  EXPECT_TRUE(TreeHead::parse("o\n0\n" + root + "\n"));
  for (const std::string& bad : {
           "o\n01\n" + root + "\n",            // a leading zero
           "o\n-1\n" + root + "\n",            // a sign
           "o\n1\n" + root + "\nextension\n",  // extension lines (hie-node writes none)
           "o\n1\n" + root,                    // no final newline
           "o\n1\n" + root.substr(1) + "\n",   // not 32 bytes
           "o o\n1\n" + root + "\n",           // a space in the origin
           "\n1\n" + root + "\n",              // no origin
           "o\n18446744073709551616\n" + root + "\n",  // beyond 64 bits
       }) {
    EXPECT_FALSE(TreeHead::parse(bad)) << bad;
  }
}

}  // namespace
}  // namespace hie::audit

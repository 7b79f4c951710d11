// audit/log_export: the bytes of the v2 export (statement, line, tlog-proof, consistency
// text), the time bounds of --from/--to, and block-wise proofs equal to merkle's own.
#include "audit/log_export.h"

#include <gtest/gtest.h>

#include "audit/signed_note.h"

namespace hie::audit {
namespace {

TEST(LogExport, StatementBytesArePinned) {
  LogExportStatement s;
  s.exportId = "0123456789abcdef";
  s.time = "2026-11-26T19:00:00.000Z";
  s.from = "2026-11-26T00:00:00.000Z";
  s.logs = 1;
  s.origin = "hie-node/node-a/audit";
  s.size = 23;
  s.root = merkle::emptyRoot();
  s.first = 4;
  s.end = 11;
  s.signature = "SIG";
  EXPECT_EQ(s.canonical(),
            "{\"end\":11,\"export\":\"0123456789abcdef\",\"first\":4,\"from\":\"2026-11-26T00:00:00.000Z\",\"logs\":1,"
            "\"origin\":\"hie-node/node-a/audit\",\"root\":\"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\","
            "\"size\":23,\"time\":\"2026-11-26T19:00:00.000Z\",\"to\":\"\",\"type\":\"log-export\"}");
  EXPECT_EQ(s.toJson(), s.canonical().substr(0, s.canonical().find(",\"size\"")) + ",\"sig\":\"SIG\"" +
                            s.canonical().substr(s.canonical().find(",\"size\"")));
  EXPECT_EQ(logExportSignatureInput("{}"), "hie-audit-export-v2\n{}");
  auto key = SigningKey::generate();
  ASSERT_TRUE(key);
  ASSERT_TRUE(signStatement(s, *key));
  auto pub = VerifyKey::fromRaw(key->rawPublicKey());
  ASSERT_TRUE(pub);
  EXPECT_TRUE(pub->verify("hie-audit-export-v2\n" + s.canonical(), s.signature));
}

TEST(LogExport, LineAndProofTextsArePinned) {
  const merkle::Hash a = merkle::leafHash("a"), b = merkle::leafHash("b");
  const std::string note = "o\n2\n" + merkle::toBase64(a) + "\n\n\xE2\x80\x94 o AAAAAAAA\n";
  const std::string proof = tlogProof(1, {a, b}, note);
  EXPECT_EQ(proof, "c2sp.org/tlog-proof@v1\nindex 1\n" + merkle::toBase64(a) + "\n" + merkle::toBase64(b) + "\n\n" + note);
  EXPECT_EQ(consistencyText(1, {b}, note), "old 1\n" + merkle::toBase64(b) + "\n\n" + note);
  EXPECT_EQ(consistencyText(0, {}, note), "old 0\n\n" + note);
  auto line = logExportLine("{\"index\":1}", 1, proof);
  ASSERT_TRUE(line);
  EXPECT_EQ(*line, "{\"entry\":{\"index\":1},\"index\":1,\"proof\":\"c2sp.org/tlog-proof@v1\\nindex 1\\n" +
                       merkle::toBase64(a) + "\\n" + merkle::toBase64(b) + "\\n\\no\\n2\\n" + merkle::toBase64(a) +
                       "\\n\\n\\u2014 o AAAAAAAA\\n\"}");
  // Nothing but printable ASCII in a leaf; nothing but those two in the proof.
  EXPECT_FALSE(logExportLine("{\"a\":\"\xC3\xA9\"}", 1, proof));
  EXPECT_FALSE(logExportLine("{\"a\":\"\n\"}", 1, proof));
  EXPECT_FALSE(logExportLine("{}", 1, proof + "\t"));
  EXPECT_FALSE(logExportLine("{}", 1, proof + "\xE2\x80\x93"));  // an en dash
  EXPECT_FALSE(logExportLine("{}", 1, proof + "\xE2\x80"));      // cut short
  EXPECT_EQ(exportString("a\"b\\c"), std::optional<std::string>("\"a\\\"b\\\\c\""));
}

TEST(LogExport, CosignaturesThatAreNoSignatureLinesAreLeftOut) {
  const std::string note = "o\n0\n" + merkle::toBase64(merkle::emptyRoot()) + "\n\n\xE2\x80\x94 o AAAAAAAA\n";
  std::size_t dropped = 99;
  EXPECT_EQ(withCosignatures(note, {"\xE2\x80\x94 w1 AAAAAAAAAA==", "garbage", "\xE2\x80\x94 w2 AAAAAAAAAA==\nx"}, dropped),
            note + "\xE2\x80\x94 w1 AAAAAAAAAA==\n");
  EXPECT_EQ(dropped, 2u);
}

TEST(LogExport, TimeBoundsAreTheLeavesTimeForm) {
  struct Case {
    std::string text;
    bool upper;
    std::string bound;  // "" = refused
  };
  const std::vector<Case> cases{
      {"2026-11-26", false, "2026-11-26T00:00:00.000Z"},
      {"2026-11-26", true, "2026-11-26T23:59:59.999Z"},
      {"2026-11-26T18:52Z", false, "2026-11-26T18:52:00.000Z"},
      {"2026-11-26T18:52Z", true, "2026-11-26T18:52:00.000Z"},
      {"2026-11-26T18:52:19Z", true, "2026-11-26T18:52:19.000Z"},
      {"2026-11-26T18:52:19.1Z", false, "2026-11-26T18:52:19.100Z"},
      {"2026-11-26T18:52:19.1234Z", false, "2026-11-26T18:52:19.124Z"},  // a lower bound rounds up
      {"2026-11-26T18:52:19.1234Z", true, "2026-11-26T18:52:19.123Z"},   // an upper bound down
      {"2026-11-26T18:52:19.999999Z", false, "2026-11-26T18:52:20.000Z"},
      {"2026-11-26T00:30:00+01:00", false, "2026-11-25T23:30:00.000Z"},
      {"2026-12-31T23:30:00-01:00", false, "2027-01-01T00:30:00.000Z"},
      {"2024-02-29", false, "2024-02-29T00:00:00.000Z"},
      {"2000-02-29", false, "2000-02-29T00:00:00.000Z"},
      {"1970-01-01T00:00:00.000001Z", false, "1970-01-01T00:00:00.001Z"},
      {"1969-12-31T23:59:59.999Z", false, "1969-12-31T23:59:59.999Z"},
      {"2026-02-29", false, ""},
      {"1900-02-29", false, ""},
      {"2026-13-01", false, ""},
      {"2026-11-31", false, ""},
      {"2026-11-26T24:00Z", false, ""},
      {"2026-11-26T18:60Z", false, ""},
      {"2026-11-26T18:52:60Z", false, ""},
      {"2026-11-26T18:52:19", false, ""},
      {"2026-11-26T18:52:19.Z", false, ""},
      {"2026-11-26T18:52:19.1234567Z", false, ""},
      {"2026-11-26T18:52:19+0100", false, ""},
      {"2026-11-26T18:52:19Zx", false, ""},
      {"2026-11-26 18:52:19Z", false, ""},
      {"26-11-26", false, ""},
      {"", false, ""},
      {"0000-01-01T00:00:00+00:01", false, ""},  // year -1 in UTC
      {"9999-12-31T23:59:59-00:01", false, ""},  // year 10000 in UTC
  };
  for (const auto& c : cases) {
    auto got = exportTimeBound(c.text, c.upper);
    if (c.bound.empty()) {
      EXPECT_FALSE(got) << c.text << " -> " << (got ? *got : "");
      if (!got) {
        EXPECT_EQ(got.error().code, ErrorCode::kInvalidInput);
      }
    } else {
      ASSERT_TRUE(got) << c.text << ": " << got.error().internal;
      EXPECT_EQ(*got, c.bound) << c.text << (c.upper ? " (to)" : " (from)");
    }
  }
}

TEST(LogExport, BlockProofsAreTheTreesProofs) {
  std::vector<merkle::Hash> all;
  for (std::uint64_t size = 1; size <= 45; ++size) {
    all.push_back(merkle::leafHash("leaf " + std::to_string(size - 1)));
    merkle::MemoryHashSource source(all);
    for (std::uint64_t capacity : {1, 4, 8, 32}) {
      for (std::uint64_t begin = 0; begin < size; begin += capacity) {
        const std::uint64_t end = std::min(begin + capacity, size);
        auto block = ProofBlock::make(begin, std::vector<merkle::Hash>(all.begin() + begin, all.begin() + end), size, source);
        ASSERT_TRUE(block) << begin << "/" << size;
        for (std::uint64_t i = begin; i < end; ++i) {
          auto got = block->proof(i);
          ASSERT_TRUE(got);
          EXPECT_EQ(*got, *merkle::inclusionProof(i, size, source)) << i << " of " << size << " in block " << begin;
        }
        EXPECT_FALSE(block->proof(end));
      }
    }
    // A block that is no node of the tree.
    if (size >= 4) {
      EXPECT_FALSE(ProofBlock::make(1, {all[1], all[2]}, size, source)) << size;
    }
  }
}

}  // namespace
}  // namespace hie::audit

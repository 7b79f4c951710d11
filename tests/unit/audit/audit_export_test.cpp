#include "audit/audit_export.h"

#include <gtest/gtest.h>

namespace hie::audit {
namespace {

TEST(AuditExport, StatementBytesArePinned) {
  // The exact bytes of docs/audit-format.md ("Export"): canonical form, "sig" added last in key order.
  ExportStatement s{ExportRequest{"0123456789abcdef", "2026-11-26T19:00:00.000Z", "2026-11-26", ""}, 2,
                    ExportRange{"node-a/2026-11-26T18-52-19Z/4f1c0a9b2e7d", 5, std::string(64, 'a'), 9,
                                std::string(64, 'b')},
                    "SIG"};
  EXPECT_EQ(s.canonical(),
            "{\"chain\":\"node-a/2026-11-26T18-52-19Z/4f1c0a9b2e7d\",\"chains\":2,\"export\":\"0123456789abcdef\","
            "\"first\":5,\"from\":\"2026-11-26\",\"hash\":\"" + std::string(64, 'b') + "\",\"last\":9,\"prev\":\"" +
                std::string(64, 'a') + "\",\"time\":\"2026-11-26T19:00:00.000Z\",\"to\":\"\",\"type\":\"export\"}");
  EXPECT_EQ(s.toJson(), s.canonical().substr(0, s.canonical().find(",\"time\"")) + ",\"sig\":\"SIG\"" +
                            s.canonical().substr(s.canonical().find(",\"time\"")));
  EXPECT_EQ(exportSignatureInput("{}"), "hie-audit-export-v1\n{}");
}

TEST(AuditExport, EveryStatementIsSignedAndAnEmptyExportStillHasOne) {
  auto key = SigningKey::generate();
  ASSERT_TRUE(key);
  auto verifyKey = VerifyKey::fromPem(key->publicPem());
  ASSERT_TRUE(verifyKey);
  const ExportRequest request = newExportRequest("", "");
  EXPECT_EQ(request.id.size(), 16u);
  EXPECT_NE(request.id, newExportRequest("", "").id);
  std::vector<ExportRange> ranges{{"c1", 1, kGenesisHash, 3, std::string(64, 'c')},
                                  {"c2", 4, std::string(64, 'd'), 4, std::string(64, 'e')}};
  auto statements = signExportStatements(request, ranges, *key);
  ASSERT_TRUE(statements);
  ASSERT_EQ(statements->size(), 2u);
  for (const auto& s : *statements) {
    EXPECT_EQ(s.chains, 2);
    EXPECT_TRUE(verifyKey->verify(exportSignatureInput(s.canonical()), s.signature)) << s.toJson();
  }
  auto none = signExportStatements(request, {}, *key);
  ASSERT_TRUE(none);
  ASSERT_EQ(none->size(), 1u);
  EXPECT_EQ(none->front().chains, 0);
  EXPECT_NE(none->front().canonical().find("\"chain\":\"\",\"chains\":0,"), std::string::npos);
  EXPECT_TRUE(verifyKey->verify(exportSignatureInput(none->front().canonical()), none->front().signature));
}

TEST(AuditExport, EntryLinesEscapeLikeTheCanonicalForm) {
  SealedEntry e{"node \"a\"\\x/1", 7, "p", "h", "s", "{\"chain\":\"node \\\"a\\\"\\\\x/1\",\"seq\":7}"};
  EXPECT_EQ(exportEntryLine(e), "{\"chain\":\"node \\\"a\\\"\\\\x/1\",\"entry\":{\"chain\":\"node \\\"a\\\"\\\\x/1\","
                                "\"seq\":7},\"hash\":\"h\",\"prev\":\"p\",\"seq\":7,\"sig\":\"s\"}");
}

}  // namespace
}  // namespace hie::audit

#include "exchange/http/log_scrubbing.h"

#include <gtest/gtest.h>

namespace hie::exchange {
namespace {

TEST(ScrubForLog, KeepsPrintableAsciiAndEscapesEverythingElse) {
  EXPECT_EQ(scrubForLog("GET /fhir/metadata"), "GET /fhir/metadata");
  EXPECT_EQ(scrubForLog("a\"b\\c"), "a\\x22b\\x5cc") << "quotes and backslashes cannot close or escape the field";
  EXPECT_EQ(scrubForLog("x\r\nforged=1"), "x\\x0d\\x0aforged=1") << "no new log line";
  EXPECT_EQ(scrubForLog(std::string("\x00\x7f\xff", 3)), "\\x00\\x7f\\xff");
  EXPECT_EQ(scrubForLog("caf\xc3\xa9"), "caf\\xc3\\xa9") << "UTF-8 is escaped byte by byte";
}

TEST(ScrubForLog, BoundsTheText) {
  EXPECT_EQ(scrubForLog(std::string(300, 'a')), std::string(256, 'a') + "...");
  EXPECT_EQ(scrubForLog(std::string(256, 'a')), std::string(256, 'a'));
  EXPECT_EQ(scrubForLog("abcdef", 3), "abc...");
  EXPECT_EQ(scrubForLog(""), "");
}

TEST(PathForLog, ReplacesWhatFollowsTheResourceType) {
  EXPECT_EQ(pathForLog("/fhir/Patient/p-123"), "/fhir/Patient/{id}");
  EXPECT_EQ(pathForLog("/fhir/Patient/p-123/_history/2"), "/fhir/Patient/{id}");
  EXPECT_EQ(pathForLog("/fhir/Patient"), "/fhir/Patient") << "a search names no one in its path";
  EXPECT_EQ(pathForLog("/fhir/.well-known/udap"), "/fhir/.well-known/udap") << "UDAP discovery";
  EXPECT_EQ(pathForLog("/fhir/metadata"), "/fhir/metadata");
  EXPECT_EQ(pathForLog("/exchange/Observation"), "/exchange/Observation");
  EXPECT_EQ(pathForLog("/audit/AuditEvent"), "/audit/AuditEvent");
  EXPECT_EQ(pathForLog("-"), "-");
  EXPECT_EQ(pathForLog("/fhir/"), "/fhir/");
}

}  // namespace
}  // namespace hie::exchange

namespace hie::exchange {
namespace {

TEST(HeaderValueForLog, CredentialsNeverReachALog) {
  const std::string token = "eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJjIn0.c2ln";
  EXPECT_EQ(headerValueForLog("Authorization", "Bearer " + token), "Bearer [redacted]");
  EXPECT_EQ(headerValueForLog("authorization", "Basic dXNlcjpwYXNz"), "Basic [redacted]");
  EXPECT_EQ(headerValueForLog("Proxy-Authorization", "Bearer " + token), "Bearer [redacted]");
  // No scheme, or something that is no scheme: nothing of it at all.
  EXPECT_EQ(headerValueForLog("Authorization", token), "[redacted]");
  EXPECT_EQ(headerValueForLog("Authorization", "Bear\"er x"), "[redacted]");
  EXPECT_EQ(headerValueForLog("AUTHORIZATION", std::string(1000, 'a') + " b"), "[redacted]");
  // Other headers as scrubForLog makes them.
  EXPECT_EQ(headerValueForLog("X-Purpose-Of-Use", "TREAT\"x"), "TREAT\\x22x");
}

}  // namespace
}  // namespace hie::exchange

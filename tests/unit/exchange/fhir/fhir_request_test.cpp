#include "exchange/fhir/fhir_request.h"

#include <gtest/gtest.h>

#include "exchange/handlers/record_api.h"

namespace hie::exchange {
namespace {

Result<FhirRequest> parse(const std::string& path, HeaderList query = {}) {
  return parseFhirRequest(path, query, defaultResourceTypes(), SearchLimits{});
}

TEST(FhirRequest, Reads) {
  auto r = parse("/fhir/Observation/obs-1.a");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, FhirRequest::Kind::kRead);
  EXPECT_EQ(r->resourceType, "Observation");
  EXPECT_EQ(r->id, "obs-1.a");
}

TEST(FhirRequest, Searches) {
  auto byId = parse("/fhir/DocumentReference", {{"patient", "Patient/p1"}, {"_count", "5"}});
  ASSERT_TRUE(byId);
  EXPECT_EQ(byId->patient.patientId, "p1");
  EXPECT_EQ(byId->count, 5);
  auto byIdent = parse("/fhir/Observation", {{"patient.identifier", "urn:oid:2.16.840.1.113883.3.7000.1|NET-1"}});
  ASSERT_TRUE(byIdent);
  EXPECT_TRUE(byIdent->patient.byIdentifier());
  EXPECT_EQ(byIdent->patient.system, "urn:oid:2.16.840.1.113883.3.7000.1");
  EXPECT_EQ(byIdent->patient.value, "NET-1");
  EXPECT_EQ(byIdent->count, 20);
  // A page larger than this node's maximum is lowered to it (FHIR: a server may return fewer).
  auto large = parse("/fhir/Observation", {{"patient", "p1"}, {"_count", "101"}});
  ASSERT_TRUE(large);
  EXPECT_EQ(large->count, 100);
  auto patient = parse("/fhir/Patient", {{"identifier", "sys|v"}, {"_cursor", "p3"}});
  ASSERT_TRUE(patient);
  EXPECT_EQ(patient->after, "p3");
}

TEST(FhirRequest, HostileInputIsRefused) {
  struct Case {
    std::string path;
    HeaderList query;
    ErrorCode code;
  };
  const std::vector<Case> cases = {
      {"/fhir/Unknown", {}, ErrorCode::kNotFound},
      {"/fhir/patient/p1", {}, ErrorCode::kNotFound},
      {"/fhir/Observation/../Patient", {}, ErrorCode::kInvalidInput},
      {"/fhir/Observation/a'b", {}, ErrorCode::kInvalidInput},
      {"/fhir/Observation/" + std::string(65, 'a'), {}, ErrorCode::kInvalidInput},
      {"/fhir/Observation/", {}, ErrorCode::kInvalidInput},
      {"/fhir/Observation/a/b", {}, ErrorCode::kInvalidInput},
      {"/fhir/Observation/x", {{"patient", "p1"}}, ErrorCode::kInvalidInput},
      {"/fhir/Observation", {}, ErrorCode::kInvalidInput},
      {"/fhir/Observation", {{"patient", "p1"}, {"patient", "p2"}}, ErrorCode::kInvalidInput},
      {"/fhir/Observation", {{"patient", "p1"}, {"patient.identifier", "a|b"}}, ErrorCode::kInvalidInput},
      {"/fhir/Observation", {{"patient", "p1' OR '1'='1"}}, ErrorCode::kInvalidInput},
      {"/fhir/Observation", {{"patient", "p1"}, {"code", "x"}}, ErrorCode::kInvalidInput},
      {"/fhir/Observation", {{"patient", "p1"}, {"resource->>'id'", "x"}}, ErrorCode::kInvalidInput},
      {"/fhir/Observation", {{"patient.identifier", "novalue"}}, ErrorCode::kInvalidInput},
      {"/fhir/Observation", {{"patient.identifier", "|v"}}, ErrorCode::kInvalidInput},
      {"/fhir/Observation", {{"patient.identifier", "s|"}}, ErrorCode::kInvalidInput},
      {"/fhir/Observation", {{"patient.identifier", "s|v|w"}}, ErrorCode::kInvalidInput},
      {"/fhir/Observation", {{"patient.identifier", "s|v\n"}}, ErrorCode::kInvalidInput},
      {"/fhir/Observation", {{"patient", "p1"}, {"_count", "0"}}, ErrorCode::kInvalidInput},
      {"/fhir/Observation", {{"patient", "p1"}, {"_count", "99999999999999999999"}}, ErrorCode::kInvalidInput},
      {"/fhir/Observation", {{"patient", "p1"}, {"_count", "-1"}}, ErrorCode::kInvalidInput},
      {"/fhir/Observation", {{"patient", "p1"}, {"_cursor", "a b"}}, ErrorCode::kInvalidInput},
      {"/fhir/Patient", {{"patient", "p1"}}, ErrorCode::kInvalidInput},
      {"/fhir/Patient", {}, ErrorCode::kInvalidInput},
  };
  for (const auto& c : cases) {
    auto r = parse(c.path, c.query);
    ASSERT_FALSE(r) << c.path;
    EXPECT_EQ(r.error().code, c.code) << c.path;
    EXPECT_EQ(r.error().external.find('\n'), std::string::npos);
  }
}

TEST(FhirRequest, Utf8IsCheckedByteForByte) {
  for (const std::string& ok : {std::string(""), std::string("plain ascii"), std::string("caf\xc3\xa9"),
                                std::string("\xe2\x82\xac"), std::string("\xed\x9f\xbf"),      // U+D7FF
                                std::string("\xef\xbf\xbf"), std::string("\xf0\x90\x80\x80"),  // U+FFFF, U+10000
                                std::string("\xf4\x8f\xbf\xbf")}) {                             // U+10FFFF
    EXPECT_TRUE(isValidUtf8(ok)) << ::testing::PrintToString(ok);
  }
  for (const std::string& bad :
       {std::string("\xff"), std::string("\xfe\xff"), std::string("\x80"), std::string("a\xbf"),
        std::string("\xc3\x28"), std::string("\xc3"), std::string("\xc0\xaf"), std::string("\xc1\xbf"),  // overlong
        std::string("\xe0\x80\xaf"), std::string("\xf0\x80\x80\xaf"),                            // overlong
        std::string("\xed\xa0\x80"), std::string("\xed\xbf\xbf"),                                 // surrogates
        std::string("\xf4\x90\x80\x80"), std::string("\xf5\x80\x80\x80"),                         // past U+10FFFF
        std::string("\xe2\x82"), std::string("\xf0\x90\x80"), std::string("ok\xe2\x82\xac\xe2")}) {
    EXPECT_FALSE(isValidUtf8(bad)) << ::testing::PrintToString(bad);
  }
}

TEST(FhirRequest, Utf8PrefixStopsWhereTheBadSequenceStarts) {
  EXPECT_EQ(validUtf8Prefix("abc"), 3u);
  EXPECT_EQ(validUtf8Prefix("ab\xff"), 2u);
  EXPECT_EQ(validUtf8Prefix("\xc3\xa9\xc3\x28x"), 2u);
  EXPECT_EQ(validUtf8Prefix("a\xe2\x82"), 1u);
  EXPECT_EQ(validUtf8Prefix(""), 0u);
}

TEST(FhirRequest, IdentifiersMustBeUtf8) {
  // PostgreSQL refuses such text: it must be a 400 here, never a failed query.
  EXPECT_FALSE(parse("/fhir/Patient", {{"identifier", "urn:x|\xc3\x28"}}));
  EXPECT_FALSE(parse("/fhir/Observation", {{"patient.identifier", "urn:\xff|v"}}));
  EXPECT_FALSE(parse("/fhir/Observation", {{"patient.identifier", "urn:x|\xed\xa0\x80"}}));
  EXPECT_EQ(parse("/fhir/Patient", {{"identifier", "urn:x|\xff"}}).error().code, ErrorCode::kInvalidInput);
  auto unicode = parse("/fhir/Patient", {{"identifier", "urn:x|Jos\xc3\xa9"}});
  ASSERT_TRUE(unicode);
  EXPECT_EQ(unicode->patient.value, "Jos\xc3\xa9");
}

TEST(FhirRequest, ConfiguredTypesOnly) {
  auto r = parseFhirRequest("/fhir/Encounter/e1", {}, {"Patient"}, SearchLimits{});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}

TEST(FhirRequest, NextPageQueryRoundTrips) {
  auto r = parse("/fhir/Observation", {{"patient.identifier", "urn:oid:1.2|A&B=C"}, {"_count", "3"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(nextPageQuery(*r, ""), "patient.identifier=urn:oid:1.2%7CA%26B%3DC&_count=3");  // first page: no cursor
  EXPECT_EQ(nextPageQuery(*r, "obs-3"), "patient.identifier=urn:oid:1.2%7CA%26B%3DC&_count=3&_cursor=obs-3");
}

TEST(PatientIdentifier, IsOneBarBetweenPrintableSystemAndValue) {
  auto ok = parsePatientIdentifier("patient.identifier", "urn:oid:1.2.3|MRN-7");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->system, "urn:oid:1.2.3");
  EXPECT_EQ(ok->value, "MRN-7");
  for (const char* bad : {"", "|", "a|", "|b", "ab", "a|b|c", "a|b\n", "a\x01|b"}) {
    auto r = parsePatientIdentifier("patient.identifier", bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
  }
  EXPECT_FALSE(parsePatientIdentifier("x", "s|" + std::string(257, 'v')));
}

TEST(PurposeOfUseHeaderTest, IsValidOnlyAsOneKnownCode) {
  HttpCall call;
  EXPECT_EQ(purposeOfUseHeader(call).count, 0);
  EXPECT_FALSE(purposeOfUseHeader(call).valid());
  call.headers = {{"x-purpose-of-use", "TREAT"}};
  EXPECT_TRUE(purposeOfUseHeader(call).valid());
  call.headers = {{"X-Purpose-Of-Use", "NOPE"}};
  EXPECT_FALSE(purposeOfUseHeader(call).valid());
  call.headers = {{"X-Purpose-Of-Use", "TREAT"}, {"X-Purpose-Of-Use", "TREAT"}};
  EXPECT_EQ(purposeOfUseHeader(call).count, 2);
  EXPECT_FALSE(purposeOfUseHeader(call).valid());
}

}  // namespace
}  // namespace hie::exchange

// The small shared helpers: file reading, certificate times, PurposeOfUse codes.
#include <gtest/gtest.h>

#include <cstdio>
#include <unistd.h>

#include <fstream>
#include <string>

#include <openssl/asn1.h>

#include "common/file.h"
#include "common/hex.h"
#include "common/ossl.h"
#include "common/purpose_of_use.h"
#include "common/time.h"

namespace hie {
namespace {

TEST(ReadFile, ReadsBytesAndNamesTheFileItCannotRead) {
  char path[] = "/tmp/hie-read-file-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string bytes("a\0b\nc", 5);
  ASSERT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  close(fd);
  auto read = readFile(path, "test file");
  std::remove(path);
  ASSERT_TRUE(read);
  EXPECT_EQ(*read, bytes);

  auto missing = readFile(path, "test file");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(missing.error().external, std::string("test file ") + path + ": cannot be read");
  auto unnamed = readFile("", "CRL file");
  ASSERT_FALSE(unnamed);
  EXPECT_EQ(unnamed.error().external, "CRL file (not configured): no file name given");
}

TEST(EpochSeconds, ReadsUtcAndGeneralizedTimesAndRefusesGarbage) {
  ASN1_TIME* utc = ASN1_TIME_new();
  ASSERT_EQ(ASN1_TIME_set_string(utc, "261202031500Z"), 1);  // UTCTime
  EXPECT_EQ(ossl::epochSeconds(utc), 1796181300);
  ASSERT_EQ(ASN1_TIME_set_string(utc, "20500101000000Z"), 1);  // GeneralizedTime
  EXPECT_EQ(ossl::epochSeconds(utc), 2524608000);
  ASN1_TIME_free(utc);
  EXPECT_FALSE(ossl::epochSeconds(nullptr));
}

TEST(PurposeOfUse, KnowsTheExchangeCodesAndWhichAreTreatmentPaymentOrOperations) {
  for (const char* code : {"TREAT", "ETREAT", "HPAYMT", "HOPERAT", "PUBHLTH", "BTG", "HSYSADMIN"}) {
    EXPECT_TRUE(purpose::isKnown(code)) << code;
  }
  for (const char* code : {"", "treat", "TREAT ", "NOPE"}) EXPECT_FALSE(purpose::isKnown(code)) << code;
  EXPECT_TRUE(purpose::isTreatmentPaymentOrOperations("TREAT"));
  EXPECT_TRUE(purpose::isTreatmentPaymentOrOperations("HPAYMT"));
  EXPECT_FALSE(purpose::isTreatmentPaymentOrOperations("PUBHLTH"));
  EXPECT_FALSE(purpose::isTreatmentPaymentOrOperations("LAW"));
  for (const auto& code : purpose::treatmentPaymentOrOperations()) EXPECT_TRUE(purpose::isKnown(code)) << code;
}

TEST(Hex, WritesTwoDigitsPerByte) {
  EXPECT_EQ(lowerHex(std::string_view("\x00\x0f\xa0\xff", 4)), "000fa0ff");
  std::string out;
  appendHexByte(out, 0xab, true);
  appendHexByte(out, 0x0c, false);
  EXPECT_EQ(out, "AB0c");
  const std::string a = randomHex(8);
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, randomHex(8));
}

TEST(UtcTime, FormatsRfc3339) {
  EXPECT_EQ(utc::fromEpoch(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(utc::fromEpoch(1796181300), "2026-12-02T03:15:00Z");
  const std::string now = utc::nowMillis();
  ASSERT_EQ(now.size(), 24u) << now;
  EXPECT_EQ(now[10], 'T');
  EXPECT_EQ(now[19], '.');
  EXPECT_EQ(now.back(), 'Z');
  const std::string today = utc::today();
  ASSERT_EQ(today.size(), 10u) << today;
  EXPECT_EQ(today.find_first_not_of("0123456789-"), std::string::npos) << today;
}

}  // namespace
}  // namespace hie

// The one copy of the calendar arithmetic (audit queries, exports, the report): known days both
// ways, leap days, the days before 1970, and the ends of the years the audit accepts.
TEST(CivilDays, KnownDatesBothWaysAndFloorDivision) {
  struct Known {
    std::int64_t year;
    int month, day;
    std::int64_t days;
  };
  const Known known[] = {{1970, 1, 1, 0},       {1969, 12, 31, -1},     {2000, 2, 29, 11016},
                         {2000, 3, 1, 11017},   {2024, 2, 29, 19782},   {2026, 12, 2, 20789},
                         {1, 1, 1, -719162},    {9999, 12, 31, 2932896}, {1900, 3, 1, -25508}};
  for (const Known& k : known) {
    EXPECT_EQ(hie::utc::daysFromCivil(k.year, k.month, k.day), k.days) << k.year << "-" << k.month << "-" << k.day;
    const hie::utc::CivilDate back = hie::utc::civilFromDays(k.days);
    EXPECT_EQ(back.year, k.year) << k.days;
    EXPECT_EQ(back.month, k.month) << k.days;
    EXPECT_EQ(back.day, k.day) << k.days;
  }
  EXPECT_EQ(hie::utc::floorDiv(-1, 86400), -1);
  EXPECT_EQ(hie::utc::floorDiv(-86400, 86400), -1);
  EXPECT_EQ(hie::utc::floorDiv(86399, 86400), 0);
  EXPECT_EQ(hie::utc::floorDiv(-86401, 86400), -2);
}

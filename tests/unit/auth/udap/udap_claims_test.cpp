#include "auth/udap/udap_claims.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace hie::auth::udap {
namespace {

constexpr std::int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z
const std::string kRegistrationUrl = "https://node-a.example.org:8443/oauth/register";
const std::string kTokenUrl = "https://node-a.example.org:8443/oauth/token";
const char* kRemove = "<remove>";

// A JSON object from member name -> raw JSON value text, with overrides (kRemove drops a member).
using Members = std::map<std::string, std::string>;
std::string objectText(Members members, const Members& overrides) {
  for (const auto& [k, v] : overrides) {
    if (v == kRemove) {
      members.erase(k);
    } else {
      members[k] = v;
    }
  }
  std::string out = "{";
  for (const auto& [k, v] : members) out += (out.size() > 1 ? ",\"" : "\"") + k + "\":" + v;
  return out + "}";
}

std::string q(const std::string& s) { return "\"" + s + "\""; }

Members registeredClaims(const std::string& aud) {
  return {{"iss", q("https://client.example.org/udap")},
          {"sub", q("https://client.example.org/udap")},
          {"aud", q(aud)},
          {"iat", std::to_string(kNow - 10)},
          {"exp", std::to_string(kNow + 240)},
          {"jti", q("6f1c2d")}};
}

std::string statement(const Members& overrides = {}) {
  Members m = registeredClaims(kRegistrationUrl);
  m["client_name"] = q("Clinic B exchange node");
  m["contacts"] = R"(["https://example.org/help","mailto:ops@clinic-b.example.org"])";
  m["grant_types"] = R"(["client_credentials"])";
  m["token_endpoint_auth_method"] = q("private_key_jwt");
  m["scope"] = q("system/Patient.read system/Observation.read");
  return objectText(m, overrides);
}

std::string b2b(const Members& overrides = {}) {
  Members m = {{"version", q("1")},
               {"organization_id", q("urn:oid:2.16.840.1.113883.3.1234")},
               {"organization_name", q("Clinic B")},
               {"purpose_of_use", R"(["urn:oid:2.16.840.1.113883.5.8#TREAT"])"},
               {"subject_name", q("Dr. B")},
               {"subject_id", q("urn:oid:2.16.840.1.113883.4.6#1234567890")},
               {"subject_role", q("http://nucc.org/provider-taxonomy#207Q00000X")},
               {"consent_policy", R"(["urn:oid:2.16.840.1.113883.3.7204.1.1.1.1.2.1"])"}};
  return objectText(m, overrides);
}

std::string assertion(const Members& overrides = {}, const std::string& b2bText = b2b()) {
  Members m = registeredClaims(kTokenUrl);
  m["extensions"] = "{\"hl7-b2b\":" + b2bText + "}";
  return objectText(m, overrides);
}

struct Row {
  std::string claims;
  std::string error;   // "" = accepted
  std::string reason;
  const char* why;
};

// Registered-claim rows for a given token kind; error is the kind's error for these defects.
std::vector<Row> registeredRows(const std::function<std::string(const Members&)>& make, const std::string& error,
                                const std::string& url) {
  const std::string t = std::to_string(kNow);
  return {
      {make({}), "", "", "valid"},
      {make({{"iss", kRemove}}), error, "claim_iss_missing", "iss missing"},
      {make({{"iss", "1"}}), error, "claim_iss_missing", "iss a number"},
      {make({{"iss", q("")}}), error, "claim_iss_missing", "iss empty"},
      {make({{"iss", q(std::string(2049, 'i'))}, {"sub", q(std::string(2049, 'i'))}}), error, "iss_too_long",
       "iss 2049 bytes"},
      {make({{"iss", q(std::string(2049, 'i'))}}), error, "iss_too_long", "iss 2049 bytes, before sub is compared"},
      {make({{"iss", q(std::string(2048, 'i'))}, {"sub", q(std::string(2048, 'i'))}}), "", "", "iss 2048 bytes"},
      {make({{"sub", kRemove}}), error, "claim_sub_missing", "sub missing"},
      {make({{"sub", q("https://other.example.org/udap")}}), error, "iss_sub_mismatch", "sub differs"},
      {make({{"aud", kRemove}}), error, "claim_aud_missing", "aud missing"},
      {make({{"aud", q(url + "/")}}), error, "aud_mismatch", "aud with a trailing slash"},
      {make({{"aud", q("https://node-b.example.org:8443/oauth/token")}}), error, "aud_mismatch", "aud elsewhere"},
      {make({{"aud", "[" + q(url) + "]"}}), "", "", "aud an array of the one URL"},
      {make({{"aud", "[" + q(url) + "," + q("x") + "]"}}), error, "claim_aud_invalid", "aud an array of two"},
      {make({{"aud", "[]"}}), error, "claim_aud_invalid", "aud an empty array"},
      {make({{"aud", "7"}}), error, "claim_aud_invalid", "aud a number"},
      {make({{"exp", kRemove}}), error, "claim_exp_missing", "exp missing"},
      {make({{"exp", q(std::to_string(kNow + 60))}}), error, "claim_exp_not_integer", "exp a string"},
      {make({{"exp", std::to_string(kNow + 60) + ".0"}}), error, "claim_exp_not_integer", "exp a float"},
      {make({{"exp", "1.8e9"}}), error, "claim_exp_not_integer", "exp with an exponent"},
      {make({{"exp", "true"}}), error, "claim_exp_not_integer", "exp a boolean"},
      {make({{"exp", "18446744073709551615"}}), error, "claim_exp_not_integer", "exp past int64 (a UInt64)"},
      {make({{"exp", "99999999999999999999"}}), error, "claims_malformed", "exp past UInt64 (Poco refuses to parse)"},
      {make({{"iat", kRemove}}), error, "claim_iat_missing", "iat missing"},
      {make({{"iat", q(t)}}), error, "claim_iat_not_integer", "iat a string"},
      {make({{"iat", t + ".5"}}), error, "claim_iat_not_integer", "iat a float"},
      {make({{"exp", t}}), error, "expired", "exp == now"},
      {make({{"iat", std::to_string(kNow - 400)}, {"exp", std::to_string(kNow - 100)}}), error, "expired",
       "exp in the past"},
      {make({{"iat", std::to_string(kNow + 61)}, {"exp", std::to_string(kNow + 120)}}), error, "issued_in_future",
       "iat 61 s ahead"},
      {make({{"iat", std::to_string(kNow + 60)}, {"exp", std::to_string(kNow + 120)}}), "", "", "iat 60 s ahead"},
      {make({{"iat", std::to_string(kNow + 30)}, {"exp", std::to_string(kNow + 30)}}), error, "lifetime_not_positive",
       "exp == iat"},
      {make({{"iat", std::to_string(kNow - 1)}, {"exp", std::to_string(kNow + 300)}}), error, "lifetime_too_long",
       "lifetime 301 s"},
      {make({{"iat", std::to_string(kNow)}, {"exp", std::to_string(kNow + 300)}}), "", "", "lifetime 300 s"},
      {make({{"iat", "-9223372036854775808"}, {"exp", "9223372036854775807"}}), error, "lifetime_too_long",
       "lifetime overflowing int64"},
      {make({{"nbf", t}}), "", "", "nbf now"},
      {make({{"nbf", std::to_string(kNow + 60)}}), "", "", "nbf 60 s ahead (the clock skew)"},
      {make({{"nbf", std::to_string(kNow + 61)}}), error, "not_yet_valid", "nbf 61 s ahead"},
      {make({{"nbf", "9223372036854775807"}}), error, "not_yet_valid", "nbf at the end of time"},
      {make({{"nbf", q(t)}}), error, "claim_nbf_not_integer", "nbf a string"},
      {make({{"nbf", t + ".0"}}), error, "claim_nbf_not_integer", "nbf a float"},
      {make({{"nbf", "null"}}), error, "claim_nbf_not_integer", "nbf null"},
      {make({{"nbf", "18446744073709551615"}}), error, "claim_nbf_not_integer", "nbf past int64"},
      {make({{"jti", kRemove}}), error, "claim_jti_missing", "jti missing"},
      {make({{"jti", q("")}}), error, "claim_jti_invalid", "jti empty"},
      {make({{"jti", "12"}}), error, "claim_jti_invalid", "jti a number"},
      {make({{"jti", q(std::string(257, 'j'))}}), error, "claim_jti_too_long", "jti 257 bytes"},
      {make({{"jti", q(std::string(256, 'j'))}}), "", "", "jti 256 bytes"},
      {"[]", error, "claims_malformed", "claims an array"},
      {R"({"iss":"a","iss":"a"})", error, "claims_duplicate_key", "duplicate claim"},
      {make({}) + "x", error, "claims_malformed", "bytes after the claims"},
  };
}

template <class Check>
void runRows(const std::vector<Row>& rows, Check check) {
  for (const Row& row : rows) {
    auto result = check(row.claims);
    if (row.error.empty()) {
      EXPECT_TRUE(result) << row.why << ": " << (result ? "" : result.error().reason);
    } else if (result) {
      ADD_FAILURE() << row.why << ": accepted";
    } else {
      EXPECT_EQ(result.error().error, row.error) << row.why;
      EXPECT_EQ(result.error().reason, row.reason) << row.why;
      EXPECT_FALSE(result.error().description.empty()) << row.why;
    }
  }
}

TEST(SoftwareStatementClaims, RegisteredClaimsTable) {
  runRows(registeredRows([](const Members& m) { return statement(m); }, "invalid_software_statement",
                         kRegistrationUrl),
          [](const std::string& c) { return checkSoftwareStatement(c, kRegistrationUrl, kNow); });
}

TEST(SoftwareStatementClaims, MetadataTable) {
  const std::string e = "invalid_client_metadata";
  const std::vector<Row> rows = {
      {statement({{"client_name", kRemove}}), e, "client_name_missing", "client_name missing"},
      {statement({{"client_name", q("")}}), e, "client_name_missing", "client_name empty"},
      {statement({{"client_name", "[\"x\"]"}}), e, "client_name_missing", "client_name an array"},
      {statement({{"contacts", kRemove}}), e, "contacts_missing", "contacts missing"},
      {statement({{"contacts", q("mailto:ops@example.org")}}), e, "contacts_invalid", "contacts a string"},
      {statement({{"contacts", R"(["mailto:ops@example.org",3])"}}), e, "contacts_invalid", "a contact a number"},
      {statement({{"contacts", "[]"}}), e, "contacts_no_mailto", "contacts empty"},
      {statement({{"contacts", R"(["https://example.org"])"}}), e, "contacts_no_mailto", "no mailto"},
      {statement({{"contacts", R"(["mailto:ops"])"}}), e, "contacts_no_mailto", "mailto without @"},
      {statement({{"contacts", R"(["MAILTO:ops@example.org"])"}}), e, "contacts_no_mailto", "upper-case scheme"},
      {statement({{"grant_types", kRemove}}), e, "grant_types_missing", "grant_types missing"},
      {statement({{"grant_types", q("client_credentials")}}), e, "grant_types_invalid", "grant_types a string"},
      {statement({{"grant_types", R"(["authorization_code"])"}}), e, "grant_type_authorization_code",
       "authorization_code"},
      {statement({{"grant_types", R"(["client_credentials","authorization_code"])"}}), e,
       "grant_type_authorization_code", "both grants"},
      {statement({{"grant_types", R"(["client_credentials","client_credentials"])"}}), e, "grant_types_unsupported",
       "client_credentials twice"},
      {statement({{"grant_types", R"(["refresh_token"])"}}), e, "grant_types_unsupported", "refresh_token"},
      {statement({{"redirect_uris", R"(["https://client.example.org/cb"])"}}), e, "redirect_uris_present",
       "redirect_uris"},
      {statement({{"response_types", R"(["code"])"}}), e, "response_types_present", "response_types"},
      {statement({{"token_endpoint_auth_method", kRemove}}), e, "token_endpoint_auth_method_missing",
       "auth method missing"},
      {statement({{"token_endpoint_auth_method", q("client_secret_basic")}}), e, "token_endpoint_auth_method_invalid",
       "client_secret_basic"},
      {statement({{"scope", kRemove}}), e, "scope_missing", "scope missing"},
      {statement({{"scope", q("")}}), e, "scope_missing", "scope empty"},
      {statement({{"scope", R"(["system/Patient.read"])"}}), e, "scope_missing", "scope an array"},
  };
  runRows(rows, [](const std::string& c) { return checkSoftwareStatement(c, kRegistrationUrl, kNow); });
}

TEST(SoftwareStatementClaims, ValidStatementAndCancellation) {
  auto s = checkSoftwareStatement(statement(), kRegistrationUrl, kNow);
  ASSERT_TRUE(s) << s.error().reason;
  EXPECT_EQ(s->iss, "https://client.example.org/udap");
  EXPECT_EQ(s->aud, kRegistrationUrl);
  EXPECT_EQ(s->times.iat, kNow - 10);
  EXPECT_EQ(s->times.exp, kNow + 240);
  EXPECT_EQ(s->jti, "6f1c2d");
  EXPECT_EQ(s->clientName, "Clinic B exchange node");
  EXPECT_EQ(s->contacts.size(), 2u);
  EXPECT_EQ(s->grantTypes, std::vector<std::string>{"client_credentials"});
  EXPECT_EQ(s->tokenEndpointAuthMethod, "private_key_jwt");
  EXPECT_EQ(s->scope, "system/Patient.read system/Observation.read");
  EXPECT_FALSE(s->cancellation());

  auto cancel = checkSoftwareStatement(statement({{"grant_types", "[]"}}), kRegistrationUrl, kNow);
  ASSERT_TRUE(cancel) << cancel.error().reason;
  EXPECT_TRUE(cancel->cancellation());
  // A cancellation asks for no scope: it may leave scope out, but not send a malformed one; a
  // registration may not leave it out.
  auto bare = checkSoftwareStatement(statement({{"grant_types", "[]"}, {"scope", kRemove}}), kRegistrationUrl, kNow);
  ASSERT_TRUE(bare) << bare.error().reason;
  EXPECT_EQ(bare->scope, "");
  auto empty = checkSoftwareStatement(statement({{"grant_types", "[]"}, {"scope", q("")}}), kRegistrationUrl, kNow);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().reason, "scope_missing");
  auto none = checkSoftwareStatement(statement({{"scope", kRemove}}), kRegistrationUrl, kNow);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().reason, "scope_missing");
}

TEST(ClientAssertionClaims, RegisteredClaimsTable) {
  runRows(registeredRows([](const Members& m) { return assertion(m); }, "invalid_client", kTokenUrl),
          [](const std::string& c) { return checkClientAssertion(c, kTokenUrl, kNow); });
}

TEST(ClientAssertionClaims, B2bTable) {
  const std::string g = "invalid_grant";
  const std::vector<Row> rows = {
      {assertion({}, b2b({{"version", kRemove}})), g, "b2b_version_missing", "version missing"},
      {assertion({}, b2b({{"version", "1"}})), g, "b2b_version_invalid", "version a number"},
      {assertion({}, b2b({{"version", q("2")}})), g, "b2b_version_invalid", "version 2"},
      {assertion({}, b2b({{"organization_id", kRemove}})), g, "b2b_organization_id_missing", "organization_id missing"},
      {assertion({}, b2b({{"organization_id", q("Clinic B")}})), g, "b2b_organization_id_not_uri", "not a URI"},
      {assertion({}, b2b({{"organization_id", q("1234")}})), g, "b2b_organization_id_not_uri", "no scheme"},
      {assertion({}, b2b({{"organization_id", q("urn:")}})), g, "b2b_organization_id_not_uri", "scheme only"},
      {assertion({}, b2b({{"organization_id", q("urn:oid:1 2")}})), g, "b2b_organization_id_not_uri", "space"},
      {assertion({}, b2b({{"organization_id", "[]"}})), g, "b2b_organization_id_not_uri", "an array"},
      {assertion({}, b2b({{"organization_name", "1"}})), g, "b2b_organization_name_invalid", "name a number"},
      {assertion({}, b2b({{"organization_name", kRemove}})), "", "", "name absent"},
      {assertion({}, b2b({{"purpose_of_use", kRemove}})), g, "purpose_of_use_missing", "purpose missing"},
      {assertion({}, b2b({{"purpose_of_use", q("TREAT")}})), g, "purpose_of_use_invalid", "purpose a string"},
      {assertion({}, b2b({{"purpose_of_use", "[1]"}})), g, "purpose_of_use_invalid", "purpose entry a number"},
      {assertion({}, b2b({{"purpose_of_use", "[]"}})), g, "purpose_of_use_empty", "purpose empty"},
      {assertion({}, b2b({{"purpose_of_use", R"(["TREAT","ETREAT"])"}})), g, "purpose_of_use_multiple", "two"},
      {assertion({}, b2b({{"purpose_of_use", R"(["TREAT","TREAT"])"}})), g, "purpose_of_use_multiple", "twice"},
      {assertion({}, b2b({{"purpose_of_use", R"(["NOPE"])"}})), g, "purpose_of_use_unknown", "unknown"},
      {assertion({}, b2b({{"purpose_of_use", R"(["treat"])"}})), g, "purpose_of_use_unknown", "lower case"},
      {assertion({}, b2b({{"subject_name", "1"}})), g, "b2b_subject_invalid", "subject_name a number"},
      {assertion({}, b2b({{"subject_role", "{}"}})), g, "b2b_subject_invalid", "subject_role an object"},
      {assertion({}, b2b({{"consent_policy", q("urn:x")}})), g, "b2b_consent_invalid", "consent_policy a string"},
      {assertion({}, b2b({{"consent_reference", "[2]"}})), g, "b2b_consent_invalid", "consent_reference of numbers"},
      {assertion({{"extensions", "[]"}}), g, "extensions_invalid", "extensions an array"},
      {assertion({{"extensions", R"({"hl7-b2b":[]})"}}), g, "b2b_not_object", "hl7-b2b an array"},
      {assertion({{"extensions", R"({"hl7-b2b":"x"})"}}), g, "b2b_not_object", "hl7-b2b a string"},
  };
  runRows(rows, [](const std::string& c) { return checkClientAssertion(c, kTokenUrl, kNow); });
}

TEST(ClientAssertionClaims, ValidAssertionCarriesTheExtension) {
  auto a = checkClientAssertion(assertion(), kTokenUrl, kNow);
  ASSERT_TRUE(a) << a.error().reason;
  EXPECT_EQ(a->clientId, "https://client.example.org/udap");
  EXPECT_EQ(a->aud, kTokenUrl);
  EXPECT_EQ(a->jti, "6f1c2d");
  ASSERT_TRUE(a->b2b);
  EXPECT_EQ(a->b2b->organizationId, "urn:oid:2.16.840.1.113883.3.1234");
  EXPECT_EQ(a->b2b->organizationName, "Clinic B");
  EXPECT_EQ(a->b2b->purposeOfUse, "TREAT");
  EXPECT_EQ(a->b2b->subjectName, "Dr. B");
  EXPECT_EQ(a->b2b->subjectId, "urn:oid:2.16.840.1.113883.4.6#1234567890");
  EXPECT_EQ(a->b2b->subjectRole, "http://nucc.org/provider-taxonomy#207Q00000X");
  EXPECT_EQ(a->b2b->consentPolicy, std::vector<std::string>{"urn:oid:2.16.840.1.113883.3.7204.1.1.1.1.2.1"});
  EXPECT_TRUE(a->b2b->consentReference.empty());
}

TEST(ClientAssertionClaims, MissingExtensionIsLeftToTheTokenEndpoint) {
  auto none = checkClientAssertion(assertion({{"extensions", kRemove}}), kTokenUrl, kNow);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->b2b);
  auto other = checkClientAssertion(assertion({{"extensions", R"({"tefca-ias":{}})"}}), kTokenUrl, kNow);
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->b2b);
}

TEST(PurposeOfUse, CodeFromTheThreeForms) {
  EXPECT_EQ(purposeOfUseCode("TREAT"), "TREAT");
  EXPECT_EQ(purposeOfUseCode("urn:oid:2.16.840.1.113883.5.8#TREAT"), "TREAT");
  EXPECT_EQ(purposeOfUseCode("http://terminology.hl7.org/CodeSystem/v3-ActReason#ETREAT"), "ETREAT");
  EXPECT_EQ(purposeOfUseCode("urn:oid:2.16.840.1.113883.5.8#HPAYMT"), "HPAYMT");
  EXPECT_EQ(purposeOfUseCode("PUBHLTH"), "PUBHLTH");
  EXPECT_EQ(purposeOfUseCode("NOPE"), std::nullopt);
  EXPECT_EQ(purposeOfUseCode("treat"), std::nullopt);
  EXPECT_EQ(purposeOfUseCode(""), std::nullopt);
  EXPECT_EQ(purposeOfUseCode("urn:oid:2.16.840.1.113883.5.8#"), std::nullopt);
  EXPECT_EQ(purposeOfUseCode("urn:oid:2.16.840.1.113883.5.8#NOPE"), std::nullopt);
  EXPECT_EQ(purposeOfUseCode("urn:oid:2.16.840.1.113883.5.9#TREAT"), std::nullopt);  // another code system
  EXPECT_EQ(purposeOfUseCode("https://terminology.hl7.org/CodeSystem/v3-ActReason#TREAT"), std::nullopt);
  EXPECT_EQ(purposeOfUseCode("http://terminology.hl7.org/CodeSystem/v3-PurposeOfUse#TREAT"), std::nullopt);
  EXPECT_EQ(purposeOfUseCode(" TREAT"), std::nullopt);
}

}  // namespace
}  // namespace hie::auth::udap

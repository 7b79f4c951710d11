#include "auth/udap/udap_metadata.h"

#include <gtest/gtest.h>

namespace hie::auth::udap {
namespace {

UdapServerMetadata sample() {
  UdapServerMetadata m;
  m.fhirBaseUrl = "https://node-a.example.org:8443/fhir";
  m.tokenEndpoint = "https://node-a.example.org:8443/oauth/token";
  m.registrationEndpoint = "https://node-a.example.org:8443/oauth/register";
  m.scopes = {"system/Patient.read", "system/Observation.read"};
  m.signingAlgorithms = {"RS256", "ES256", "RS384", "ES384"};
  return m;
}

TEST(UdapMetadata, DocumentHasExactlyTheseKeysInThisOrder) {
  EXPECT_EQ(udapMetadataDocument(sample(), "h.p.s"),
            R"({"udap_versions_supported":["1"],)"
            R"("udap_profiles_supported":["udap_dcr","udap_authn","udap_authz"],)"
            R"("udap_authorization_extensions_supported":["hl7-b2b"],)"
            R"("udap_authorization_extensions_required":["hl7-b2b"],)"
            R"("udap_certifications_supported":[],)"
            R"("grant_types_supported":["client_credentials"],)"
            R"("scopes_supported":["system/Patient.read","system/Observation.read"],)"
            R"("token_endpoint":"https://node-a.example.org:8443/oauth/token",)"
            R"("token_endpoint_auth_methods_supported":["private_key_jwt"],)"
            R"("token_endpoint_auth_signing_alg_values_supported":["RS256","ES256","RS384","ES384"],)"
            R"("registration_endpoint":"https://node-a.example.org:8443/oauth/register",)"
            R"("registration_endpoint_jwt_signing_alg_values_supported":["RS256","ES256","RS384","ES384"],)"
            R"("tls_client_certificate_bound_access_tokens":true,)"
            R"("signed_metadata":"h.p.s"})");
}

TEST(UdapMetadata, SignedMetadataClaims) {
  EXPECT_EQ(signedMetadataClaims(sample(), 1767225600, 3600, "m-1"),
            R"({"iss":"https://node-a.example.org:8443/fhir","sub":"https://node-a.example.org:8443/fhir",)"
            R"("iat":1767225600,"exp":1767229200,"jti":"m-1",)"
            R"("token_endpoint":"https://node-a.example.org:8443/oauth/token",)"
            R"("registration_endpoint":"https://node-a.example.org:8443/oauth/register"})");
}

TEST(UdapMetadata, UntrustedTextIsEscaped) {
  UdapServerMetadata m = sample();
  m.scopes = {"a\"],\"x\":[\""};
  const std::string doc = udapMetadataDocument(m, "\"");
  EXPECT_NE(doc.find(R"("scopes_supported":["a\"],\"x\":[\""])"), std::string::npos);
  EXPECT_NE(doc.find(R"("signed_metadata":"\""})"), std::string::npos);
}

}  // namespace
}  // namespace hie::auth::udap

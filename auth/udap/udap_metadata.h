// The UDAP server metadata this node publishes at {FHIR base}/.well-known/udap
// (HL7 UDAP Security IG, discovery.md section 2) and the claims of its
// signed_metadata JWT (section 2.3). Pure: text in, JSON text out.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hie::auth::udap {

struct UdapServerMetadata {
  std::string fhirBaseUrl;                 // iss == sub of signed_metadata; server.baseUrl + "/fhir"
  std::string tokenEndpoint;               // server.baseUrl + "/oauth/token"
  std::string registrationEndpoint;        // server.baseUrl + "/oauth/register"
  std::vector<std::string> scopes;         // scopes_supported
  std::vector<std::string> signingAlgorithms;  // RS256, ES256, RS384, ES384 (what the node verifies)
};

// The claims of signed_metadata: iss, sub, iat, exp = iat + lifetimeSeconds, jti, token_endpoint,
// registration_endpoint (a JSON object text).
std::string signedMetadataClaims(const UdapServerMetadata& metadata, std::int64_t iat, std::int64_t lifetimeSeconds,
                                 const std::string& jti);

// The metadata document (JSON object text): udap_versions_supported ["1"], udap_profiles_supported
// [udap_dcr, udap_authn, udap_authz], udap_authorization_extensions_supported/_required ["hl7-b2b"],
// udap_certifications_supported [], grant_types_supported ["client_credentials"], scopes_supported,
// token_endpoint, token_endpoint_auth_methods_supported ["private_key_jwt"],
// token_endpoint_auth_signing_alg_values_supported, registration_endpoint,
// registration_endpoint_jwt_signing_alg_values_supported, tls_client_certificate_bound_access_tokens
// true, signed_metadata.
std::string udapMetadataDocument(const UdapServerMetadata& metadata, const std::string& signedMetadataJwt);

}  // namespace hie::auth::udap

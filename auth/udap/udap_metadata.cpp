#include "auth/udap/udap_metadata.h"

#include "common/json_writer.h"

namespace hie::auth::udap {

namespace {

void stringArray(JsonWriter& json, const char* name, const std::vector<std::string>& values) {
  json.key(name).beginArray();
  for (const std::string& v : values) json.value(v);
  json.endArray();
}

}  // namespace

std::string signedMetadataClaims(const UdapServerMetadata& metadata, std::int64_t iat, std::int64_t lifetimeSeconds,
                                 const std::string& jti) {
  JsonWriter json;
  json.beginObject()
      .member("iss", metadata.fhirBaseUrl)
      .member("sub", metadata.fhirBaseUrl)
      .member("iat", iat)
      .member("exp", iat + lifetimeSeconds)
      .member("jti", jti)
      .member("token_endpoint", metadata.tokenEndpoint)
      .member("registration_endpoint", metadata.registrationEndpoint)
      .endObject();
  return json.take();
}

std::string udapMetadataDocument(const UdapServerMetadata& metadata, const std::string& signedMetadataJwt) {
  JsonWriter json;
  json.beginObject();
  stringArray(json, "udap_versions_supported", {"1"});
  stringArray(json, "udap_profiles_supported", {"udap_dcr", "udap_authn", "udap_authz"});
  stringArray(json, "udap_authorization_extensions_supported", {"hl7-b2b"});
  stringArray(json, "udap_authorization_extensions_required", {"hl7-b2b"});
  stringArray(json, "udap_certifications_supported", {});
  stringArray(json, "grant_types_supported", {"client_credentials"});
  stringArray(json, "scopes_supported", metadata.scopes);
  json.member("token_endpoint", metadata.tokenEndpoint);
  stringArray(json, "token_endpoint_auth_methods_supported", {"private_key_jwt"});
  stringArray(json, "token_endpoint_auth_signing_alg_values_supported", metadata.signingAlgorithms);
  json.member("registration_endpoint", metadata.registrationEndpoint);
  stringArray(json, "registration_endpoint_jwt_signing_alg_values_supported", metadata.signingAlgorithms);
  json.member("tls_client_certificate_bound_access_tokens", true);
  json.member("signed_metadata", signedMetadataJwt);
  json.endObject();
  return json.take();
}

}  // namespace hie::auth::udap

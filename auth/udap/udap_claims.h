// The claims of the three JWTs a UDAP B2B client sends (HL7 UDAP Security IG,
// registration.md section 3.1 and b2b.md section 5.2.1), checked at a given
// time against what this node expects. Pure: JSON texts in, plain structs or
// a refusal with the OAuth error code out. Signatures, certificate chains and
// identity are checked elsewhere (jws_crypto.h, the caller).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

namespace hie::auth::udap {

// A refusal as the client sees it: `error` is the OAuth / RFC 7591 code (invalid_software_statement,
// unapproved_software_statement, invalid_client_metadata, invalid_request, invalid_client, invalid_grant,
// unsupported_grant_type, invalid_scope), `reason` a stable snake_case word for the audit entry,
// logs and counters (e.g. claim_exp_missing, lifetime_too_long, aud_mismatch), `description` one
// sentence for error_description (no key material, no patient data).
struct UdapRefusal {
  std::string error;
  std::string reason;
  std::string description;
};

// The longest lifetime (exp - iat) of a software statement or client assertion, and how far ahead of
// the node's clock an iat may be.
constexpr std::int64_t kMaxAssertionLifetimeSeconds = 300;
constexpr std::int64_t kMaxClockSkewSeconds = 60;
// The longest iss (a software statement's SAN URI, a client assertion's client_id) looked at: longer
// is refused (iss_too_long) before any lookup.
constexpr std::size_t kMaxIssBytes = 2048;

// Registered claims every UDAP JWT carries (general.md 7.1.4), after the checks common to all.
struct JwtTimes {
  std::int64_t iat = 0;
  std::int64_t exp = 0;
};

struct SoftwareStatement {
  std::string iss;                     // == sub; a SAN URI of the x5c leaf (checked by the caller)
  std::string aud;
  JwtTimes times;
  std::string jti;
  std::string clientName;
  std::vector<std::string> contacts;   // at least one mailto: URI
  std::vector<std::string> grantTypes; // exactly {"client_credentials"}, or empty = cancellation
  std::string tokenEndpointAuthMethod; // "private_key_jwt"
  std::string scope;                   // space-separated, as sent
  bool cancellation() const { return grantTypes.empty(); }
};

// Checks a software statement's claims (registration.md 3.1) at `now` for this node's registration
// endpoint URL (exact string comparison). Errors: invalid_software_statement for iss/sub/aud/exp/iat/jti
// defects and lifetimes over 300 s; invalid_client_metadata for client_name, contacts, grant_types,
// redirect_uris, response_types, token_endpoint_auth_method and scope defects.
tl::expected<SoftwareStatement, UdapRefusal> checkSoftwareStatement(const std::string& claimsJson,
                                                                     const std::string& registrationUrl,
                                                                     std::int64_t now);

// The hl7-b2b authorization extension object (b2b.md 5.2.1.1).
struct B2bExtension {
  std::string organizationId;          // URI, required
  std::string organizationName;        // optional
  std::string purposeOfUse;            // the one HL7 v3 PurposeOfUse code (e.g. "TREAT"), normalized
  std::string subjectName, subjectId, subjectRole;  // optional
  std::vector<std::string> consentPolicy, consentReference;  // optional
};

struct ClientAssertion {
  std::string clientId;                // iss == sub
  std::string aud;
  JwtTimes times;
  std::string jti;
  std::optional<B2bExtension> b2b;     // extensions.hl7-b2b, when present and well-formed
};

// Checks an authentication token (client assertion, b2b.md 5.2.1) at `now` for this node's token
// endpoint URL. Errors: invalid_client for iss/sub/aud/exp/iat/jti defects and lifetimes over 300 s;
// invalid_grant for a malformed extensions.hl7-b2b (version not "1", organization_id missing or not a
// URI, purpose_of_use missing, empty, not strings, more than one, or not a known code). A missing
// hl7-b2b is not refused here (b2b == nullopt): the token endpoint refuses it.
tl::expected<ClientAssertion, UdapRefusal> checkClientAssertion(const std::string& claimsJson,
                                                                const std::string& tokenUrl, std::int64_t now);

// "TREAT", "urn:oid:2.16.840.1.113883.5.8#TREAT" and
// "http://terminology.hl7.org/CodeSystem/v3-ActReason#TREAT" -> "TREAT" when the code is a known
// PurposeOfUse code (common/purpose_of_use.h); nullopt otherwise.
std::optional<std::string> purposeOfUseCode(const std::string& text);

}  // namespace hie::auth::udap

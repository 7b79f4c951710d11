#include "auth/udap/udap_claims.h"

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "auth/udap/jose_json.h"
#include "common/purpose_of_use.h"

namespace hie::auth::udap {

namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

tl::unexpected<UdapRefusal> refuse(const std::string& error, const std::string& reason, const std::string& description) {
  return tl::make_unexpected(UdapRefusal{error, reason, description});
}

// A non-empty string member; nullopt when absent, empty or of another type.
std::optional<std::string> nonEmptyString(const Object& o, const std::string& name) {
  std::optional<std::string> s = jsonString(o, name);
  if (!s || s->empty()) return std::nullopt;
  return s;
}

// An array of strings; nullopt when absent, not an array, or an entry is not a string.
std::optional<std::vector<std::string>> stringArray(const Object& o, const std::string& name) {
  if (!o.has(name)) return std::nullopt;
  Array::Ptr array = o.getArray(name);
  if (array.isNull()) return std::nullopt;
  std::vector<std::string> out;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const Poco::Dynamic::Var entry = array->get(static_cast<unsigned>(i));
    if (entry.type() != typeid(std::string)) return std::nullopt;
    out.push_back(entry.extract<std::string>());
  }
  return out;
}

// RFC 3986 section 3.1: scheme ":" then something; no whitespace or control characters anywhere.
bool looksLikeUri(const std::string& text) {
  std::size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!alpha(text[0])) return false;
  for (std::size_t i = 1; i < colon; ++i) {
    char c = text[i];
    if (!alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.') return false;
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  }
  return true;
}

// What a software statement and a client assertion share (general.md 7.1.4): iss == sub, aud, exp, iat,
// jti. `error` is the OAuth error every defect here answers with.
struct Registered {
  std::string iss;
  std::string aud;
  JwtTimes times;
  std::string jti;
};

tl::expected<Registered, UdapRefusal> checkRegistered(const Object& c, const std::string& expectedAud,
                                                      std::int64_t now, const std::string& error) {
  Registered r;
  std::optional<std::string> iss = nonEmptyString(c, "iss");
  if (!iss) return refuse(error, "claim_iss_missing", "The iss claim is missing or not a non-empty string.");
  // Bounded before anything looks it up (a registry, a SAN URI, the jti table keyed by it).
  if (iss->size() > kMaxIssBytes) {
    return refuse(error, "iss_too_long", "The iss claim is longer than " + std::to_string(kMaxIssBytes) + " bytes.");
  }
  std::optional<std::string> sub = nonEmptyString(c, "sub");
  if (!sub) return refuse(error, "claim_sub_missing", "The sub claim is missing or not a non-empty string.");
  if (*iss != *sub) return refuse(error, "iss_sub_mismatch", "The iss and sub claims differ.");
  r.iss = *iss;

  if (!c.has("aud")) return refuse(error, "claim_aud_missing", "The aud claim is missing.");
  std::optional<std::string> aud = jsonString(c, "aud");
  if (!aud) {
    std::optional<std::vector<std::string>> auds = stringArray(c, "aud");
    if (!auds || auds->size() != 1) {
      return refuse(error, "claim_aud_invalid", "The aud claim is neither a string nor an array of one string.");
    }
    aud = auds->front();
  }
  if (*aud != expectedAud) return refuse(error, "aud_mismatch", "The aud claim is not this endpoint's URL.");
  r.aud = *aud;

  if (!c.has("exp")) return refuse(error, "claim_exp_missing", "The exp claim is missing.");
  std::optional<std::int64_t> exp = jsonInteger(c, "exp");
  if (!exp) return refuse(error, "claim_exp_not_integer", "The exp claim is not an integer NumericDate.");
  if (!c.has("iat")) return refuse(error, "claim_iat_missing", "The iat claim is missing.");
  std::optional<std::int64_t> iat = jsonInteger(c, "iat");
  if (!iat) return refuse(error, "claim_iat_not_integer", "The iat claim is not an integer NumericDate.");
  if (*exp <= now) return refuse(error, "expired", "The JWT has expired (exp is not after now).");
  if (*iat > now + kMaxClockSkewSeconds) {
    return refuse(error, "issued_in_future", "The iat claim is more than 60 seconds ahead of this server's clock.");
  }
  // nbf is optional (RFC 7519 4.1.5); when present it is an integer NumericDate, and the JWT is not
  // accepted before it (with the same clock skew as iat).
  if (c.has("nbf")) {
    std::optional<std::int64_t> nbf = jsonInteger(c, "nbf");
    if (!nbf) return refuse(error, "claim_nbf_not_integer", "The nbf claim is not an integer NumericDate.");
    if (*nbf > now + kMaxClockSkewSeconds) {
      return refuse(error, "not_yet_valid", "The nbf claim is more than 60 seconds ahead of this server's clock.");
    }
  }
  if (*exp <= *iat) return refuse(error, "lifetime_not_positive", "The exp claim is not after iat.");
  // exp > now, so exp - 300 cannot overflow; exp - iat could (iat may be INT64_MIN).
  if (*iat < *exp - kMaxAssertionLifetimeSeconds) {
    return refuse(error, "lifetime_too_long", "The JWT lifetime (exp - iat) is over 300 seconds.");
  }
  r.times = JwtTimes{*iat, *exp};

  if (!c.has("jti")) return refuse(error, "claim_jti_missing", "The jti claim is missing.");
  std::optional<std::string> jti = nonEmptyString(c, "jti");
  if (!jti) return refuse(error, "claim_jti_invalid", "The jti claim is not a non-empty string.");
  if (jti->size() > 256) return refuse(error, "claim_jti_too_long", "The jti claim is longer than 256 bytes.");
  r.jti = *jti;
  return r;
}

tl::expected<Object::Ptr, UdapRefusal> claimsObject(const std::string& claimsJson, const std::string& error) {
  auto object = parseJsonObject(claimsJson);
  if (!object) {
    if (object.error() == JsonDefect::kDuplicateKey) {
      return refuse(error, "claims_duplicate_key", "The JWT claims have a duplicate JSON key.");
    }
    return refuse(error, "claims_malformed", "The JWT claims are not a JSON object.");
  }
  return *object;
}

constexpr const char* kMetadata = "invalid_client_metadata";
constexpr const char* kGrant = "invalid_grant";

tl::expected<B2bExtension, UdapRefusal> checkB2b(const Object& b) {
  B2bExtension out;
  if (!b.has("version")) return refuse(kGrant, "b2b_version_missing", "hl7-b2b has no version.");
  std::optional<std::string> version = jsonString(b, "version");
  if (!version || *version != "1") return refuse(kGrant, "b2b_version_invalid", "hl7-b2b version is not \"1\".");

  if (!b.has("organization_id")) return refuse(kGrant, "b2b_organization_id_missing", "hl7-b2b has no organization_id.");
  std::optional<std::string> org = jsonString(b, "organization_id");
  if (!org || !looksLikeUri(*org)) {
    return refuse(kGrant, "b2b_organization_id_not_uri", "hl7-b2b organization_id is not a URI string.");
  }
  out.organizationId = *org;
  if (b.has("organization_name")) {
    std::optional<std::string> name = jsonString(b, "organization_name");
    if (!name) return refuse(kGrant, "b2b_organization_name_invalid", "hl7-b2b organization_name is not a string.");
    out.organizationName = *name;
  }

  if (!b.has("purpose_of_use")) return refuse(kGrant, "purpose_of_use_missing", "hl7-b2b has no purpose_of_use.");
  std::optional<std::vector<std::string>> purposes = stringArray(b, "purpose_of_use");
  if (!purposes) {
    return refuse(kGrant, "purpose_of_use_invalid", "hl7-b2b purpose_of_use is not an array of strings.");
  }
  if (purposes->empty()) return refuse(kGrant, "purpose_of_use_empty", "hl7-b2b purpose_of_use is empty.");
  if (purposes->size() > 1) {
    return refuse(kGrant, "purpose_of_use_multiple",
                  "This server grants one purpose per token: send one purpose_of_use.");
  }
  std::optional<std::string> code = purposeOfUseCode(purposes->front());
  if (!code) {
    return refuse(kGrant, "purpose_of_use_unknown", "hl7-b2b purpose_of_use is not a known PurposeOfUse code.");
  }
  out.purposeOfUse = *code;

  struct Optional {
    const char* name;
    std::string* target;
  };
  for (const Optional& o : {Optional{"subject_name", &out.subjectName}, Optional{"subject_id", &out.subjectId},
                            Optional{"subject_role", &out.subjectRole}}) {
    if (!b.has(o.name)) continue;
    std::optional<std::string> v = jsonString(b, o.name);
    if (!v) return refuse(kGrant, "b2b_subject_invalid", std::string("hl7-b2b ") + o.name + " is not a string.");
    *o.target = *v;
  }
  for (const char* name : {"consent_policy", "consent_reference"}) {
    if (!b.has(name)) continue;
    std::optional<std::vector<std::string>> v = stringArray(b, name);
    if (!v) return refuse(kGrant, "b2b_consent_invalid", std::string("hl7-b2b ") + name + " is not an array of strings.");
    (std::string(name) == "consent_policy" ? out.consentPolicy : out.consentReference) = *v;
  }
  return out;
}

}  // namespace

tl::expected<SoftwareStatement, UdapRefusal> checkSoftwareStatement(const std::string& claimsJson,
                                                                     const std::string& registrationUrl,
                                                                     std::int64_t now) {
  constexpr const char* kStatement = "invalid_software_statement";
  auto object = claimsObject(claimsJson, kStatement);
  if (!object) return tl::make_unexpected(object.error());
  const Object& c = **object;
  auto registered = checkRegistered(c, registrationUrl, now, kStatement);
  if (!registered) return tl::make_unexpected(registered.error());

  SoftwareStatement s;
  s.iss = registered->iss;
  s.aud = registered->aud;
  s.times = registered->times;
  s.jti = registered->jti;

  std::optional<std::string> clientName = nonEmptyString(c, "client_name");
  if (!clientName) return refuse(kMetadata, "client_name_missing", "client_name is missing or not a non-empty string.");
  s.clientName = *clientName;

  if (!c.has("contacts")) return refuse(kMetadata, "contacts_missing", "contacts is missing.");
  std::optional<std::vector<std::string>> contacts = stringArray(c, "contacts");
  if (!contacts) return refuse(kMetadata, "contacts_invalid", "contacts is not an array of strings.");
  bool mailto = false;
  for (const std::string& contact : *contacts) {
    if (contact.rfind("mailto:", 0) == 0 && contact.find('@') != std::string::npos) mailto = true;
  }
  if (!mailto) return refuse(kMetadata, "contacts_no_mailto", "contacts has no mailto: URI with an address.");
  s.contacts = *contacts;

  if (c.has("redirect_uris")) {
    return refuse(kMetadata, "redirect_uris_present", "redirect_uris is for the authorization code flow only.");
  }
  if (c.has("response_types")) {
    return refuse(kMetadata, "response_types_present", "response_types is for the authorization code flow only.");
  }
  if (!c.has("grant_types")) return refuse(kMetadata, "grant_types_missing", "grant_types is missing.");
  std::optional<std::vector<std::string>> grants = stringArray(c, "grant_types");
  if (!grants) return refuse(kMetadata, "grant_types_invalid", "grant_types is not an array of strings.");
  for (const std::string& g : *grants) {
    if (g == "authorization_code") {
      return refuse(kMetadata, "grant_type_authorization_code",
                    "This server supports the client_credentials grant only.");
    }
  }
  if (!grants->empty() && !(grants->size() == 1 && grants->front() == "client_credentials")) {
    return refuse(kMetadata, "grant_types_unsupported",
                  "grant_types is [\"client_credentials\"] (or [] to cancel a registration).");
  }
  s.grantTypes = *grants;

  if (!c.has("token_endpoint_auth_method")) {
    return refuse(kMetadata, "token_endpoint_auth_method_missing", "token_endpoint_auth_method is missing.");
  }
  std::optional<std::string> method = jsonString(c, "token_endpoint_auth_method");
  if (!method || *method != "private_key_jwt") {
    return refuse(kMetadata, "token_endpoint_auth_method_invalid", "token_endpoint_auth_method is not private_key_jwt.");
  }
  s.tokenEndpointAuthMethod = *method;

  // A cancellation (grant_types []) asks for nothing: its scope may be left out (registration.md 3.4
  // asks only for an empty grant_types); when present it must still be well-formed.
  std::optional<std::string> scope = nonEmptyString(c, "scope");
  if (!scope && !(s.cancellation() && !c.has("scope"))) {
    return refuse(kMetadata, "scope_missing", "scope is missing or not a non-empty string.");
  }
  s.scope = scope.value_or("");
  return s;
}

tl::expected<ClientAssertion, UdapRefusal> checkClientAssertion(const std::string& claimsJson,
                                                                const std::string& tokenUrl, std::int64_t now) {
  constexpr const char* kClient = "invalid_client";
  auto object = claimsObject(claimsJson, kClient);
  if (!object) return tl::make_unexpected(object.error());
  const Object& c = **object;
  auto registered = checkRegistered(c, tokenUrl, now, kClient);
  if (!registered) return tl::make_unexpected(registered.error());

  ClientAssertion a;
  a.clientId = registered->iss;
  a.aud = registered->aud;
  a.times = registered->times;
  a.jti = registered->jti;

  if (!c.has("extensions")) return a;
  Object::Ptr extensions = c.getObject("extensions");
  if (extensions.isNull()) return refuse(kGrant, "extensions_invalid", "extensions is not a JSON object.");
  if (!extensions->has("hl7-b2b")) return a;
  Object::Ptr b2b = extensions->getObject("hl7-b2b");
  if (b2b.isNull()) return refuse(kGrant, "b2b_not_object", "extensions.hl7-b2b is not a JSON object.");
  auto checked = checkB2b(*b2b);
  if (!checked) return tl::make_unexpected(checked.error());
  a.b2b = std::move(*checked);
  return a;
}

std::optional<std::string> purposeOfUseCode(const std::string& text) {
  static const char* const kPrefixes[] = {"urn:oid:2.16.840.1.113883.5.8#",
                                          "http://terminology.hl7.org/CodeSystem/v3-ActReason#"};
  std::string code = text;
  for (const char* prefix : kPrefixes) {
    const std::string p(prefix);
    if (text.size() > p.size() && text.compare(0, p.size(), p) == 0) {
      code = text.substr(p.size());
      break;
    }
  }
  if (!purpose::isKnown(code)) return std::nullopt;
  return code;
}

}  // namespace hie::auth::udap

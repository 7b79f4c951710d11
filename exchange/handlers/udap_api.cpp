#include "exchange/handlers/udap_api.h"

#include <ctime>
#include <set>
#include <sstream>

#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include "auth/identity/certificate_identity.h"
#include "auth/identity/identity_mapping.h"
#include "auth/registry/organization.h"
#include "auth/tls/client_standing.h"
#include "auth/tls/tls_material_store.h"
#include "auth/udap/chain_verifier.h"
#include "auth/udap/udap_claims.h"
#include "auth/udap/access_token.h"
#include "auth/udap/jws.h"
#include "auth/udap/jws_crypto.h"
#include "auth/udap/udap_metadata.h"
#include "common/base64.h"
#include "common/hex.h"
#include "common/json_writer.h"
#include "exchange/http/form_body.h"

namespace hie::exchange {
namespace {

constexpr const char* kAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
// How long a jti stays remembered after its JWT's exp (general.md 7.1.4 allows reuse after that).
constexpr std::int64_t kJtiMargin = 60;

struct Refusal {
  int status;
  std::string error;
  std::string reason;
  std::string description;
};

HttpReply jsonReply(int status, std::string body, bool noStore) {
  HttpReply reply;
  reply.status = status;
  reply.contentType = "application/json";
  reply.body = std::move(body);
  if (noStore) {
    reply.headers.emplace_back("Cache-Control", "no-store");
    reply.headers.emplace_back("Pragma", "no-cache");
  }
  return reply;
}

HttpReply oauthError(const Refusal& r, const char* action, const std::string& clientId = "") {
  JsonWriter w;
  w.beginObject().member("error", r.error).member("error_description", r.description).endObject();
  HttpReply reply = jsonReply(r.status, w.take(), true);
  reply.refusalReason = r.reason;
  reply.access.action = action;
  reply.access.clientId = clientId;
  return reply;
}

std::string base64Url(const std::string& bytes) {
  std::string text = base64Encode(bytes);
  while (!text.empty() && text.back() == '=') text.pop_back();
  for (char& c : text) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return text;
}

// base64url(SHA-256(DER)) from the lowercase hex SHA-256 the TLS identity carries.
std::string thumbprintFromHex(const std::string& hex) {
  std::string bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return base64Url(bytes);
}

std::vector<std::string> splitScopes(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string s;
  while (in >> s) out.push_back(s);
  return out;
}

bool scopeAllowed(const std::string& scope, const std::vector<std::string>& allowed) {
  for (const auto& a : allowed) {
    if (a == scope) return true;
  }
  // system/<Type>.read | .rs under the wildcard.
  if (scope.compare(0, 7, "system/") != 0) return false;
  const std::size_t dot = scope.rfind('.');
  if (dot == std::string::npos || dot <= 7) return false;
  const std::string type = scope.substr(7, dot - 7);
  const std::string access = scope.substr(dot + 1);
  if (type.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != std::string::npos) return false;
  for (const auto& a : allowed) {
    if ((a == "system/*.read" || a == "system/*.rs") && (access == "read" || access == "rs")) return true;
  }
  return false;
}

std::string header(const HttpCall& call, const std::string& name) { return call.headerLines(name); }

bool hasHeader(const HttpCall& call, const std::string& name) {
  for (const auto& [n, v] : call.headers) {
    if (n.size() == name.size()) {
      bool same = true;
      for (std::size_t i = 0; i < n.size() && same; ++i) {
        same = std::tolower(static_cast<unsigned char>(n[i])) == std::tolower(static_cast<unsigned char>(name[i]));
      }
      if (same) return true;
    }
  }
  return false;
}

HttpReply methodNotAllowed(const char* allow, const char* action) {
  HttpReply reply = oauthError(Refusal{405, "invalid_request", "method_not_allowed", std::string("Only ") + allow +
                                                                                          " is supported here."},
                               action);
  reply.headers.emplace_back("Allow", allow);
  return reply;
}

// Checks an x5c leaf as the identity behind a JWT whose iss names it: iss is one of the leaf's SAN
// URIs, the leaf maps (like a TLS client certificate) to exactly one active organization, and that
// organization's identifier is iss. Returns the organization's identifier, or why not.
struct LeafIdentity {
  std::string organization;
  std::string refusal;  // reason word, "" when admitted
  auth::PeerIdentity identity;
};

LeafIdentity identifyLeaf(X509* leaf, const std::string& iss, const auth::RegistrySnapshot& registry) {
  LeafIdentity out;
  auto identity = auth::extractIdentity(leaf);
  if (!identity) {
    out.refusal = "x5c_identity";
    return out;
  }
  out.identity = *identity;
  bool inSan = false;
  for (const auto& uri : identity->sanUris) inSan = inSan || uri == iss;
  if (!inSan) {
    out.refusal = "iss_not_in_san";
    return out;
  }
  const auth::IdentityMapping mapping = auth::mapIdentity(*identity, registry.organizations);
  if (mapping.outcome != auth::MappingOutcome::kAdmitted) {
    out.refusal = std::string("x5c_") + auth::mappingOutcomeName(mapping.outcome);
    return out;
  }
  if (auth::canonicalUri(iss) != mapping.organization->identifier) {
    out.refusal = "iss_not_organization";
    return out;
  }
  out.organization = mapping.organization->identifier;
  return out;
}

}  // namespace

std::string grantedScope(const std::string& requested, const std::vector<std::string>& allowed) {
  std::string out;
  std::set<std::string> seen;
  for (const auto& scope : splitScopes(requested)) {
    if (!scopeAllowed(scope, allowed) || !seen.insert(scope).second) continue;
    out += (out.empty() ? "" : " ") + scope;
  }
  return out;
}

UdapApi::UdapApi(UdapSettings settings, const auth::ChainVerifier& chains, const auth::OrganizationDirectory& directory,
                 const auth::TlsMaterialStore& tls, UdapClientStore& clients, JtiRegistry& jtis, Counters& counters,
                 Clock clock)
    : settings_(std::move(settings)),
      chains_(chains),
      directory_(directory),
      tls_(tls),
      clients_(clients),
      jtis_(jtis),
      counters_(counters),
      clock_(std::move(clock)) {}

bool UdapApi::isUdapPath(const std::string& path) {
  return path == kUdapDiscoveryPath || path == kUdapRegisterPath || path == kUdapTokenPath;
}

std::int64_t UdapApi::now() const { return clock_ ? clock_() : static_cast<std::int64_t>(std::time(nullptr)); }

HttpReply UdapApi::handle(const HttpCall& call, const auth::PeerIdentity& tlsPeer) const {
  HttpReply reply;
  if (call.path == kUdapDiscoveryPath) {
    reply = metadata(call);
  } else if (call.path == kUdapRegisterPath) {
    reply = registration(call);
  } else {
    reply = token(call, tlsPeer);
  }
  reply.access.resourceType.clear();
  if (!reply.refusalReason.empty()) counters_.refusals.inc({"udap", reply.refusalReason});
  return reply;
}

HttpReply UdapApi::metadata(const HttpCall& call) const {
  constexpr const char* kAction = "udap-metadata";
  if (call.method != "GET" && call.method != "HEAD") return methodNotAllowed("GET", kAction);
  // ?community=: this node knows one community (udap.community) or none; for any other it returns
  // its default metadata (discovery.md 2.4 allows that), which is the same document.
  const std::shared_ptr<const auth::LoadedTls> loaded = tls_.current();
  const auth::TlsMaterial& material = *loaded->material;
  auto algorithm = auth::udap::algorithmForKey(material.key.get());
  std::vector<std::string> x5c{auth::udap::certificateDer(material.leaf.get())};
  for (int i = 0; material.intermediates && i < sk_X509_num(material.intermediates.get()); ++i) {
    x5c.push_back(auth::udap::certificateDer(sk_X509_value(material.intermediates.get(), i)));
  }
  auth::udap::UdapServerMetadata document{settings_.fhirBaseUrl, settings_.tokenEndpoint, settings_.registrationEndpoint,
                                          settings_.scopes, {"RS256", "ES256", "RS384", "ES384"}};
  const std::string claims = auth::udap::signedMetadataClaims(document, now(), settings_.metadataLifetime.count(),
                                                              randomHex(16));
  Result<std::string> signedMetadata = algorithm ? auth::udap::signJws(material.key.get(), x5c, "", claims)
                                                 : Result<std::string>(tl::make_unexpected(algorithm.error()));
  if (!signedMetadata) {
    HttpReply reply = oauthError(Refusal{500, "server_error", "udap_metadata_signing", "The metadata cannot be signed."},
                                 kAction);
    reply.internalError = signedMetadata.error().internal;
    return reply;
  }
  HttpReply reply = jsonReply(200, auth::udap::udapMetadataDocument(document, *signedMetadata), false);
  reply.access.action = kAction;
  return reply;
}

HttpReply UdapApi::registration(const HttpCall& call) const {
  constexpr const char* kAction = "udap-register";
  if (call.method != "POST") return methodNotAllowed("POST", kAction);
  const std::int64_t at = now();
  auto refuse = [&](const std::string& error, const std::string& reason, const std::string& description,
                    const std::string& clientId = "") {
    return oauthError(Refusal{400, error, reason, description}, kAction, clientId);
  };
  if (mediaType(header(call, "Content-Type")) != "application/json") {
    return refuse("invalid_software_statement", "content_type", "The registration request must be application/json.");
  }
  auto body = parseJsonObject(call.body);
  if (!body) {
    return refuse("invalid_software_statement", "body_" + body.error(),
                  "The registration request is not a JSON object with unique keys.");
  }
  auto statementIt = body->find("software_statement");
  if (statementIt == body->end() || statementIt->second.kind != JsonMember::Kind::kString) {
    return refuse("invalid_software_statement", "software_statement_missing",
                  "The request has no software_statement string.");
  }
  auto udapIt = body->find("udap");
  if (udapIt == body->end() || udapIt->second.kind != JsonMember::Kind::kString || udapIt->second.text != "1") {
    return refuse("invalid_software_statement", "udap_version", "The request must have \"udap\": \"1\".");
  }
  // certifications: accepted and ignored (registration.md 3.3).
  const std::string& compact = statementIt->second.text;
  auto jws = auth::udap::parseJws(compact);
  if (!jws) return refuse("invalid_software_statement", jws.error().reason, jws.error().detail);
  auto chain = auth::udap::decodeX5c(*jws);
  if (!chain) return refuse("invalid_software_statement", chain.error().reason, chain.error().detail);
  if (auto usage = auth::udap::checkSigningKeyUsage(chain->leaf.get())) {
    return refuse("invalid_software_statement", usage->reason, usage->detail);
  }
  ossl::UniquePtr<EVP_PKEY> leafKey(X509_get_pubkey(chain->leaf.get()));
  if (!leafKey) return refuse("invalid_software_statement", "jws_key_mismatch", "The x5c leaf has no usable public key.");
  if (auto bad = auth::udap::verifyJwsSignature(*jws, leafKey.get())) {
    return refuse("invalid_software_statement", bad->reason, bad->detail);
  }
  auto statement = auth::udap::checkSoftwareStatement(jws->claimsJson, settings_.registrationEndpoint, at);
  if (!statement) return refuse(statement.error().error, statement.error().reason, statement.error().description);
  if (auto standing = chains_.verifyChain(chain->leaf.get(), chain->untrusted.get(), at)) {
    return refuse("unapproved_software_statement", "x5c_" + standing->reason,
                  "The certificate chain in x5c is not trusted by this node.");
  }
  const auth::OrganizationSnapshot registry = directory_.snapshot();
  const LeafIdentity leaf = identifyLeaf(chain->leaf.get(), statement->iss, *registry);
  if (!leaf.refusal.empty()) {
    return refuse("unapproved_software_statement", leaf.refusal,
                  "The software statement's iss is not the identifier of an active organization named by the "
                  "certificate's SAN URIs.");
  }
  if (statement->jti.size() > 256) {  // checkSoftwareStatement bounds jti (256) and iss (kMaxIssBytes) already
    return refuse("invalid_software_statement", "jti_too_long", "The jti is too long.");
  }
  auto fresh = jtis_.remember(statement->iss, statement->jti, statement->times.exp + kJtiMargin, at);
  if (!fresh) {
    HttpReply reply = oauthError(Refusal{500, "server_error", "udap_store", "The registration cannot be processed now."},
                                 kAction);
    reply.internalError = fresh.error().internal;
    return reply;
  }
  if (!*fresh) return refuse("invalid_software_statement", "jti_replayed", "This software statement was already used.");

  JsonWriter w;
  auto writeContacts = [&](const std::vector<std::string>& contacts) {
    w.key("contacts").beginArray();
    for (const auto& c : contacts) w.value(c);
    w.endArray();
  };
  if (statement->cancellation()) {
    auto cancelled = clients_.cancelBySan(statement->iss);
    if (!cancelled) {
      HttpReply reply = oauthError(Refusal{500, "server_error", "udap_store", "The registration cannot be processed now."},
                                   kAction);
      reply.internalError = cancelled.error().internal;
      return reply;
    }
    if (!*cancelled) {
      return refuse("invalid_client_metadata", "cancel_without_registration",
                    "There is no active registration to cancel for this iss.");
    }
    w.beginObject().member("client_id", **cancelled).member("software_statement", compact);
    w.member("client_name", statement->clientName);
    writeContacts(statement->contacts);
    w.key("grant_types").beginArray().endArray();
    w.member("token_endpoint_auth_method", statement->tokenEndpointAuthMethod).endObject();
    HttpReply reply = jsonReply(200, w.take(), true);
    reply.access.action = kAction;
    reply.access.clientId = **cancelled;
    return reply;
  }
  const std::string scope = grantedScope(statement->scope, settings_.scopes);
  if (scope.empty()) {
    return refuse("invalid_client_metadata", "scope_unsupported", "None of the requested scopes is supported.");
  }
  auto registered = clients_.registerClient(UdapRegistration{leaf.organization, statement->iss, statement->clientName,
                                                             statement->contacts, scope, compact,
                                                             leaf.identity.certSha256});
  if (!registered) {
    HttpReply reply = oauthError(Refusal{500, "server_error", "udap_store", "The registration cannot be processed now."},
                                 kAction);
    reply.internalError = registered.error().internal;
    return reply;
  }
  w.beginObject().member("client_id", registered->clientId).member("software_statement", compact);
  w.member("client_name", statement->clientName);
  writeContacts(statement->contacts);
  w.key("grant_types").beginArray().value("client_credentials").endArray();
  w.member("token_endpoint_auth_method", statement->tokenEndpointAuthMethod).member("scope", scope).endObject();
  HttpReply reply = jsonReply(registered->created ? 201 : 200, w.take(), true);
  reply.access.action = kAction;
  reply.access.clientId = registered->clientId;
  return reply;
}

HttpReply UdapApi::token(const HttpCall& call, const auth::PeerIdentity& tlsPeer) const {
  constexpr const char* kAction = "udap-token";
  if (call.method != "POST") return methodNotAllowed("POST", kAction);
  const std::int64_t at = now();
  std::string clientId;
  auto refuse = [&](int status, const std::string& error, const std::string& reason, const std::string& description) {
    HttpReply reply = oauthError(Refusal{status, error, reason, description}, kAction, clientId);
    if (status == 401) reply.headers.emplace_back("WWW-Authenticate", "Bearer error=\"invalid_client\"");
    return reply;
  };
  auto storeError = [&](const Error& e) {
    HttpReply reply = refuse(500, "server_error", "udap_store", "The token request cannot be processed now.");
    reply.internalError = e.internal;
    return reply;
  };
  if (mediaType(header(call, "Content-Type")) != "application/x-www-form-urlencoded") {
    return refuse(400, "invalid_request", "content_type",
                  "The token request must be application/x-www-form-urlencoded.");
  }
  if (hasHeader(call, "Authorization")) {
    return refuse(400, "invalid_request", "authorization_header",
                  "A UDAP token request carries no Authorization header (private_key_jwt only).");
  }
  auto form = parseFormBody(call.body);
  if (!form) return refuse(400, "invalid_request", form.error(), "The form body is malformed or repeats a parameter.");
  auto param = [&](const char* name) -> const std::string* {
    auto it = form->find(name);
    return it == form->end() ? nullptr : &it->second;
  };
  if (param("client_secret") != nullptr) {
    return refuse(400, "invalid_request", "client_secret", "A client secret is not accepted (private_key_jwt only).");
  }
  const std::string* grantType = param("grant_type");
  if (grantType == nullptr) return refuse(400, "invalid_request", "grant_type_missing", "grant_type is missing.");
  if (*grantType != "client_credentials") {
    return refuse(400, "unsupported_grant_type", "grant_type_unsupported", "Only client_credentials is supported.");
  }
  const std::string* udap = param("udap");
  if (udap == nullptr || *udap != "1") return refuse(400, "invalid_request", "udap_version", "udap=1 is required.");
  const std::string* scope = param("scope");
  if (scope == nullptr || scope->empty()) return refuse(400, "invalid_request", "scope_missing", "scope is missing.");
  const std::string* assertionType = param("client_assertion_type");
  if (assertionType == nullptr || *assertionType != kAssertionType) {
    return refuse(400, "invalid_request", "client_assertion_type",
                  std::string("client_assertion_type must be ") + kAssertionType + ".");
  }
  const std::string* assertion = param("client_assertion");
  if (assertion == nullptr || assertion->empty()) {
    return refuse(400, "invalid_request", "client_assertion_missing", "client_assertion is missing.");
  }

  auto jws = auth::udap::parseJws(*assertion);
  if (!jws) return refuse(401, "invalid_client", jws.error().reason, jws.error().detail);
  auto chain = auth::udap::decodeX5c(*jws);
  if (!chain) return refuse(401, "invalid_client", chain.error().reason, chain.error().detail);
  if (auto usage = auth::udap::checkSigningKeyUsage(chain->leaf.get())) {
    return refuse(401, "invalid_client", usage->reason, usage->detail);
  }
  ossl::UniquePtr<EVP_PKEY> leafKey(X509_get_pubkey(chain->leaf.get()));
  if (!leafKey) return refuse(401, "invalid_client", "jws_key_mismatch", "The x5c leaf has no usable public key.");
  if (auto bad = auth::udap::verifyJwsSignature(*jws, leafKey.get())) {
    return refuse(401, "invalid_client", bad->reason, bad->detail);
  }
  auto claims = auth::udap::checkClientAssertion(jws->claimsJson, settings_.tokenEndpoint, at);
  if (!claims) {
    const auto& e = claims.error();
    return refuse(e.error == "invalid_client" ? 401 : 400, e.error, e.reason, e.description);
  }
  // RFC 6749 2.3 / RFC 7521 4.2: a client_id parameter, when sent, names the same client as the
  // assertion; two identities in one request are refused rather than one of them picked.
  if (const std::string* formClientId = param("client_id"); formClientId != nullptr && *formClientId != claims->clientId) {
    return refuse(401, "invalid_client", "client_id_mismatch", "The client_id parameter is not the client assertion's iss.");
  }
  if (auto standing = chains_.verifyChain(chain->leaf.get(), chain->untrusted.get(), at)) {
    return refuse(401, "invalid_client", "x5c_" + standing->reason,
                  "The certificate chain in x5c is not trusted by this node.");
  }
  auto client = clients_.find(claims->clientId);
  if (!client) return storeError(client.error());
  if (!*client) return refuse(401, "invalid_client", "client_unknown", "No client is registered with this client_id.");
  if (!(*client)->active) return refuse(401, "invalid_client", "client_cancelled", "The client's registration is cancelled.");
  const UdapClientRecord& record = **client;
  const auth::OrganizationSnapshot registry = directory_.snapshot();
  const LeafIdentity leaf = identifyLeaf(chain->leaf.get(), record.sanUri, *registry);
  if (!leaf.refusal.empty()) {
    return refuse(401, "invalid_client", leaf.refusal,
                  "The assertion's certificate does not name the registered client's organization.");
  }
  if (leaf.organization != record.organization) {
    return refuse(401, "invalid_client", "x5c_organization_mismatch",
                  "The assertion's certificate belongs to another organization than the client's.");
  }
  // Only now is the client proven (registered, active, and the assertion signed by a trusted
  // certificate of its organization under its SAN URI): from here on the audit entry names it.
  // Before, the client_id is only what the request claims.
  clientId = record.clientId;
  const auth::IdentityMapping tlsMapping = auth::mapIdentity(tlsPeer, registry->organizations);
  if (tlsMapping.outcome != auth::MappingOutcome::kAdmitted || tlsMapping.organization->identifier != record.organization) {
    return refuse(401, "invalid_client", "tls_organization_mismatch",
                  "The TLS client certificate does not belong to the client's organization.");
  }
  if (claims->jti.size() > 256) return refuse(401, "invalid_client", "jti_too_long", "The jti is too long.");
  auto fresh = jtis_.remember(claims->clientId, claims->jti, claims->times.exp + kJtiMargin, at);
  if (!fresh) return storeError(fresh.error());
  if (!*fresh) return refuse(401, "invalid_client", "jti_replayed", "This client assertion was already used.");
  if (!claims->b2b) {
    return refuse(400, "invalid_grant", "b2b_missing", "The assertion has no extensions.hl7-b2b object.");
  }
  const auth::udap::B2bExtension& b2b = *claims->b2b;
  if (auth::canonicalUri(b2b.organizationId) != record.organization) {
    return refuse(400, "invalid_grant", "b2b_organization_mismatch",
                  "hl7-b2b organization_id is not the registered client's organization.");
  }
  // What the registration allowed, as far as udap.scopes still allows it now.
  const std::string granted = grantedScope(grantedScope(*scope, splitScopes(record.scope)), settings_.scopes);
  if (granted.empty()) {
    return refuse(400, "invalid_scope", "scope_unsupported", "None of the requested scopes is granted to this client.");
  }

  auth::udap::AccessTokenClaims token;
  token.issuer = settings_.fhirBaseUrl;
  token.clientId = record.clientId;
  token.organizationId = record.organization;
  token.purposeOfUse = b2b.purposeOfUse;
  token.scope = granted;
  token.certificateThumbprint = tlsPeer.certSha256.empty() ? "" : thumbprintFromHex(tlsPeer.certSha256);
  token.subjectName = b2b.subjectName;
  token.subjectId = b2b.subjectId;
  token.subjectRole = b2b.subjectRole;
  token.issuedAt = at;
  token.expiresAt = at + settings_.tokenLifetime.count();
  token.jti = randomHex(16);
  const std::shared_ptr<const auth::LoadedTls> loaded = tls_.current();
  auto signedToken = auth::udap::issueAccessToken(token, loaded->material->key.get());
  if (!signedToken) {
    HttpReply reply = refuse(500, "server_error", "udap_token_signing", "The access token cannot be signed.");
    reply.internalError = signedToken.error().internal;
    return reply;
  }
  JsonWriter w;
  w.beginObject()
      .member("access_token", *signedToken)
      .member("token_type", "Bearer")
      .member("expires_in", static_cast<long long>(settings_.tokenLifetime.count()))
      .member("scope", granted)
      .endObject();
  HttpReply reply = jsonReply(200, w.take(), true);
  reply.access.action = kAction;
  reply.access.clientId = record.clientId;
  reply.access.purpose = token.purposeOfUse;
  return reply;
}

}  // namespace hie::exchange

#include "exchange/http/bearer_check.h"

#include <strings.h>

#include <ctime>
#include <utility>

#include "common/base64.h"
#include "exchange/fhir/operation_outcome.h"

namespace hie::exchange {
namespace {

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// RFC 6750 2.1 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool isB64Token(const std::string& token) {
  if (token.empty()) return false;
  std::size_t i = 0;
  for (; i < token.size(); ++i) {
    const char c = token[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    if (!ok) break;
  }
  if (i == 0) return false;
  for (; i < token.size(); ++i) {
    if (token[i] != '=') return false;
  }
  return true;
}

HttpReply invalidRequest(const std::string& reason, const std::string& detail) {
  HttpReply reply = operationOutcome(400, "invalid", detail);
  reply.refusalReason = reason;
  // RFC 6750 3.1: a malformed request is invalid_request (400).
  reply.headers.emplace_back("WWW-Authenticate",
                             "Bearer realm=\"hie-node\", error=\"invalid_request\", error_description=\"" + detail + "\"");
  return reply;
}

HttpReply forbidden(const std::string& reason, const std::string& detail) {
  HttpReply reply = operationOutcome(403, "forbidden", detail);
  reply.refusalReason = reason;
  return reply;
}

// The FHIR type a /fhir/ path reads ("" for /fhir/metadata, whose answer names no record).
std::string resourceTypeOf(const std::string& path) {
  const std::string rest = path.substr(6);
  const std::string type = rest.substr(0, rest.find('/'));
  return type == "metadata" ? "" : type;
}

// True when one of the token's scopes (space-separated; the token endpoint grants only
// system/<Type or *>.read and .rs) covers reading and searching type.
bool scopeCovers(const std::string& scopes, const std::string& type) {
  std::size_t at = 0;
  while (at < scopes.size()) {
    std::size_t end = scopes.find(' ', at);
    if (end == std::string::npos) end = scopes.size();
    const std::string scope = scopes.substr(at, end - at);
    at = end + 1;
    const std::size_t dot = scope.rfind('.');
    if (scope.compare(0, 7, "system/") != 0 || dot == std::string::npos || dot < 7) continue;
    const std::string what = scope.substr(7, dot - 7);
    const std::string access = scope.substr(dot + 1);
    if ((what == "*" || what == type) && (access == "read" || access == "rs")) return true;
  }
  return false;
}

bool bearerAllowed(const HttpCall& call) {
  return (call.method == "GET" || call.method == "HEAD") && call.path.compare(0, 6, "/fhir/") == 0;
}

}  // namespace

HttpReply tokenRefusal(const std::string& reason, const std::string& detail) {
  HttpReply reply = operationOutcome(401, "security", detail);
  reply.refusalReason = reason;
  // detail is one of this file's fixed sentences or a JwsRefusal detail: no '"' or '\' in either,
  // but quote-safe anyway (RFC 6750 3: error_description excludes '"' and '\').
  std::string description;
  for (char c : detail) {
    if (c >= 0x20 && c <= 0x7e && c != '"' && c != '\\') description.push_back(c);
  }
  reply.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"hie-node\", error=\"invalid_token\", error_description=\"" +
                                                     description + "\"");
  return reply;
}

std::string certificateThumbprint(const auth::PeerIdentity& peer) {
  const std::string& hex = peer.certSha256;
  if (hex.size() != 64) return "";
  std::string bytes;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = hexDigit(hex[i]), lo = hexDigit(hex[i + 1]);
    if (hi < 0 || lo < 0) return "";
    bytes.push_back(static_cast<char>(hi * 16 + lo));
  }
  return base64UrlEncode(bytes);  // without padding (RFC 4648 5, RFC 7515 2)
}

BearerCheck::BearerCheck(AccessTokenVerifier verify, Counters& counters, Clock now)
    : verify_(std::move(verify)),
      counters_(counters),
      now_(now ? std::move(now) : Clock([] { return static_cast<std::int64_t>(std::time(nullptr)); })) {}

void BearerCheck::useScopes(const std::vector<std::string>& configured) {
  configuredScopes_.clear();
  for (const auto& scope : configured) configuredScopes_ += (configuredScopes_.empty() ? "" : " ") + scope;
}

BearerCheck::Outcome BearerCheck::check(const HttpCall& call, const auth::PeerIdentity& peer,
                                        const auth::Organization& organization,
                                        const auth::RegistrySnapshot& registry) const {
  Outcome out = decide(call, peer, organization, registry);
  if (out.refusal) {
    counters_.bearerChecks.inc({out.refusal->refusalReason});
    counters_.refusals.inc({"token", out.refusal->refusalReason});
  } else {
    counters_.bearerChecks.inc({out.clientId.empty() ? "none" : "accepted"});
  }
  return out;
}

BearerCheck::Outcome BearerCheck::decide(const HttpCall& call, const auth::PeerIdentity& peer,
                                         const auth::Organization& organization,
                                         const auth::RegistrySnapshot& registry) const {
  Outcome out;
  std::string authorization;
  int lines = 0;
  for (const auto& [name, value] : call.headers) {
    if (strcasecmp(name.c_str(), "Authorization") == 0) {
      ++lines;
      authorization = value;
    }
  }
  if (lines == 0) {
    // Mutual TLS alone, as always; unless this node requires a token for records (udap.requireToken).
    if (requireToken_ && bearerAllowed(call) && !resourceTypeOf(call.path).empty()) {
      HttpReply reply = operationOutcome(401, "security",
                                         "This node requires a UDAP access token for reads (Authorization: Bearer); "
                                         "see /fhir/.well-known/udap.");
      reply.refusalReason = "token_required";
      // RFC 6750 3.1: no error code when the request carried no credentials at all.
      reply.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"hie-node\"");
      out.refusal = std::move(reply);
    }
    return out;
  }
  if (lines > 1) {
    out.refusal = invalidRequest("invalid_request", "A request carries at most one Authorization header.");
    return out;
  }
  // RFC 7235 2.1: the scheme is case-insensitive, one or more spaces before the credentials.
  const std::size_t space = authorization.find(' ');
  const std::string scheme = authorization.substr(0, space);
  std::string token = space == std::string::npos ? "" : authorization.substr(space + 1);
  while (!token.empty() && token.front() == ' ') token.erase(0, 1);
  if (strcasecmp(scheme.c_str(), "Bearer") != 0) {
    out.refusal = invalidRequest("invalid_request", "The only Authorization scheme accepted is Bearer.");
    return out;
  }
  if (!isB64Token(token)) {
    out.refusal = invalidRequest("invalid_request", "The Bearer credentials are not a token (RFC 6750 2.1).");
    return out;
  }
  if (!bearerAllowed(call)) {
    HttpReply reply = operationOutcome(
        400, "invalid", "An access token is accepted only on reads and searches under /fhir/; this endpoint takes mutual TLS alone.");
    reply.refusalReason = "bearer_not_accepted";
    out.refusal = std::move(reply);
    return out;
  }
  auto verified = verify_(token, now_());
  if (!verified) {
    out.refusal = tokenRefusal(verified.error().reason.empty() ? "token_malformed" : verified.error().reason,
                               verified.error().detail.empty() ? "The access token is not valid." : verified.error().detail);
    // A token this node signed, refused on its claims (expired, ...): the caller authenticated with it.
    if (!verified.error().clientId.empty()) {
      out.authentication = "mtls+udap";
      out.clientId = verified.error().clientId;
    }
    return out;
  }
  const auth::udap::AccessTokenClaims& claims = *verified;
  // The signature verified: whatever is refused below, the entry says how the caller authenticated.
  out.authentication = "mtls+udap";
  out.clientId = claims.clientId;
  // A client registered after the snapshot's poll (its first token is used at once): one refresh.
  std::shared_ptr<const auth::RegistrySnapshot> newer;
  const auth::RegistrySnapshot* known = &registry;
  auto client = known->udapClients.find(claims.clientId);
  if (client == known->udapClients.end() && refresh_) {
    newer = refresh_();
    if (newer) {
      known = newer.get();
      client = known->udapClients.find(claims.clientId);
    }
  }
  if (client == known->udapClients.end() || !client->second.active) {
    out.refusal = tokenRefusal("token_client_cancelled", "The client the access token was issued to is not registered here (any more).");
    return out;
  }
  if (client->second.organization != claims.organizationId || claims.organizationId != organization.identifier) {
    out.refusal = forbidden("token_organization_mismatch",
                            "The access token was issued to another organization than the client certificate's.");
    return out;
  }
  const std::string thumbprint = certificateThumbprint(peer);
  if (claims.certificateThumbprint.empty() || thumbprint.empty() || claims.certificateThumbprint != thumbprint) {
    out.refusal = tokenRefusal("token_binding_mismatch",
                               "The access token is bound to another client certificate than this connection's.");
    return out;
  }
  int purposeLines = 0;
  bool purposeDiffers = false;
  for (const auto& [name, value] : call.headers) {
    if (strcasecmp(name.c_str(), "X-Purpose-Of-Use") == 0) {
      ++purposeLines;
      purposeDiffers = purposeDiffers || value != claims.purposeOfUse;
    }
  }
  if (purposeDiffers || purposeLines > 1) {
    out.refusal = forbidden("purpose_mismatch",
                            "X-Purpose-Of-Use must be absent or the access token's purpose of use (" +
                                claims.purposeOfUse + "); a new purpose needs a new token.");
    return out;
  }
  // Scopes only narrow what the organization's grants allow (docs/udap.md, "Scopes"); what the token
  // was granted counts only as far as udap.scopes still allows it now.
  const std::string type = resourceTypeOf(call.path);
  if (!type.empty() && !(scopeCovers(claims.scope, type) && scopeCovers(configuredScopes_, type))) {
    // type comes from the request's (decoded) path: it reaches the header only when it is a plain
    // FHIR type name (letters), never as control characters or quotes (header injection).
    const bool plainType = type.size() <= 64 && type.find_first_not_of(
                                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == std::string::npos;
    out.refusal = forbidden("insufficient_scope", "The access token's scope does not cover reading this resource type.");
    out.refusal->headers.emplace_back(
        "WWW-Authenticate", "Bearer realm=\"hie-node\", error=\"insufficient_scope\"" +
                                (plainType ? ", scope=\"system/" + type + ".read\"" : std::string()));
    return out;
  }
  out.purpose = claims.purposeOfUse;
  return out;
}

}  // namespace hie::exchange

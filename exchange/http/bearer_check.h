// The gate's check of a UDAP access token (RFC 6750 `Authorization: Bearer`),
// after admission and before the signature check (docs/api.md, "Bearer
// tokens"). A token is an addition to the client certificate, never a
// replacement: it is accepted only on GET/HEAD under /fhir/, only from the
// organization the certificate admitted, only over a connection whose client
// certificate the token is bound to (RFC 8705 cnf.x5t#S256), and only for its
// own purpose of use. No sockets.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/identity/peer_identity.h"
#include "auth/registry/organization.h"
#include "auth/registry/registry_snapshot.h"
#include "auth/udap/access_token.h"
#include "common/counters.h"
#include "exchange/http/http_call.h"

namespace hie::auth {
class TlsMaterialStore;
}

namespace hie::exchange {

// Checks one of this node's access tokens at now (seconds since the epoch): signature, typ, iss/aud,
// exp, iat (auth/udap/access_token.h).
using AccessTokenVerifier = std::function<tl::expected<auth::udap::AccessTokenClaims, auth::udap::JwsRefusal>(
    const std::string& token, std::int64_t now)>;

// verifyAccessToken with the node's current TLS key and the one before the last reload; a token of
// the previous key only when its iat is not after the reload (else token_key_retired, with the
// token's client_id). issuer: this node's FHIR base URL (server.baseUrl + "/fhir"). tls must outlive
// the verifier.
AccessTokenVerifier nodeAccessTokenVerifier(const auth::TlsMaterialStore& tls, std::string issuer);

// The RFC 8705 thumbprint of the connection's client certificate: base64url (no padding) of the
// SHA-256 of its DER, from PeerIdentity::certSha256 (lowercase hex); "" when that is not 64 hex digits.
std::string certificateThumbprint(const auth::PeerIdentity& peer);

class BearerCheck {
 public:
  using Clock = std::function<std::int64_t()>;  // seconds since the epoch

  struct Outcome {
    // "mtls" (no token, or one whose signature did not verify) or "mtls+udap" (a token this node
    // signed: accepted, or refused after its signature verified, e.g. expired, another
    // organization's, bound to another certificate, of a cancelled client, insufficient scope).
    std::string authentication = "mtls";
    std::string clientId;  // that token's client_id (also on such a refusal), "" otherwise
    std::string purpose;   // the accepted token's purpose of use: the request's purpose from here on
    // 400 invalid_request | bearer_not_accepted, 401 token_* (WWW-Authenticate: Bearer
    // error="invalid_token"), 403 token_organization_mismatch | purpose_mismatch.
    std::optional<HttpReply> refusal;
  };

  // verify and counters must outlive this. now: default std::time.
  BearerCheck(AccessTokenVerifier verify, Counters& counters, Clock now = {});

  // organization: the one the client certificate admitted; registry: the snapshot with udapClients.
  // Counts every outcome (hie_bearer_checks_total{outcome}: none, accepted, or the refusal reason)
  // and every refusal (hie_refusals_total{stage="token"}).
  Outcome check(const HttpCall& call, const auth::PeerIdentity& peer, const auth::Organization& organization,
                const auth::RegistrySnapshot& registry) const;

  // A client the snapshot does not know may have registered since the registry's last poll: refresh
  // is asked once for a newer snapshot (serve: OrganizationRegistry::refresh) before the token is
  // refused. Without it (the default) an unknown client is refused at once.
  void useRefresh(std::function<std::shared_ptr<const auth::RegistrySnapshot>()> refresh) {
    refresh_ = std::move(refresh);
  }

  // The node's udap.scopes as configured now: a token's scope grants a type only where one of these
  // covers it too (the intersection), so a scope removed from the configuration after a token was
  // issued no longer grants. Default {"system/*.read"} (the udap.scopes default).
  void useScopes(const std::vector<std::string>& configured);

  // true: a read or search of records (GET/HEAD under /fhir/ but /fhir/metadata) without a token is
  // refused 401 token_required (udap.requireToken); the other paths are unchanged. Default false.
  void requireToken(bool required) { requireToken_ = required; }

 private:
  Outcome decide(const HttpCall& call, const auth::PeerIdentity& peer, const auth::Organization& organization,
                 const auth::RegistrySnapshot& registry) const;

  AccessTokenVerifier verify_;
  Counters& counters_;
  Clock now_;
  std::function<std::shared_ptr<const auth::RegistrySnapshot>()> refresh_;
  bool requireToken_ = false;
  std::string configuredScopes_ = "system/*.read";  // space-separated
};

// The 401 for a refused token (RFC 6750 3.1): OperationOutcome (code security) and
// WWW-Authenticate: Bearer realm="hie-node", error="invalid_token", error_description="detail".
HttpReply tokenRefusal(const std::string& reason, const std::string& detail);

}  // namespace hie::exchange

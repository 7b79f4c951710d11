// The UDAP B2B endpoints of the node's authorization server (HL7 UDAP
// Security IG; docs/udap.md): discovery (GET /fhir/.well-known/udap), trusted
// dynamic client registration (POST /oauth/register) and the client
// credentials token endpoint (POST /oauth/token). Answered before identity
// mapping (discovery is for unregistered clients), behind the verified TLS
// handshake. Errors are OAuth JSON (RFC 7591 3.2.2, RFC 6749 5.2), never
// OperationOutcome.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "auth/identity/peer_identity.h"
#include "auth/registry/organization_registry.h"
#include "common/counters.h"
#include "exchange/http/http_call.h"
#include "exchange/http/udap_stores.h"

namespace hie::auth {
class ChainVerifier;     // auth/udap/chain_verifier.h
class TlsMaterialStore;  // auth/tls/tls_material_store.h
}  // namespace hie::auth

namespace hie::exchange {

constexpr const char* kUdapDiscoveryPath = "/fhir/.well-known/udap";
constexpr const char* kUdapRegisterPath = "/oauth/register";
constexpr const char* kUdapTokenPath = "/oauth/token";
constexpr std::size_t kMaxUdapRegisterBodyBytes = 64 * 1024;
constexpr std::size_t kMaxUdapTokenBodyBytes = 32 * 1024;

struct UdapSettings {
  std::string fhirBaseUrl;           // server.baseUrl + "/fhir": iss of signed_metadata, aud of access tokens
  std::string tokenEndpoint;         // server.baseUrl + "/oauth/token"
  std::string registrationEndpoint;  // server.baseUrl + "/oauth/register"
  std::chrono::seconds tokenLifetime{300};
  std::chrono::seconds metadataLifetime{86400};
  std::vector<std::string> scopes{"system/*.read"};
  std::string community;             // "" = none named
};

class UdapApi {
 public:
  using Clock = std::function<std::int64_t()>;  // seconds since the epoch

  // Everything must outlive this. clock: null = the system clock.
  UdapApi(UdapSettings settings, const auth::ChainVerifier& chains, const auth::OrganizationDirectory& directory,
          const auth::TlsMaterialStore& tls, UdapClientStore& clients, JtiRegistry& jtis, Counters& counters,
          Clock clock = nullptr);

  // The three paths above (exact, decoded path).
  static bool isUdapPath(const std::string& path);

  // tlsPeer: the verified TLS client certificate of the connection. reply.access.action is
  // udap-metadata | udap-register | udap-token, reply.access.clientId the client concerned,
  // reply.refusalReason the UdapRefusal reason.
  HttpReply handle(const HttpCall& call, const auth::PeerIdentity& tlsPeer) const;

  const UdapSettings& settings() const { return settings_; }

 private:
  HttpReply metadata(const HttpCall& call) const;
  HttpReply registration(const HttpCall& call) const;
  HttpReply token(const HttpCall& call, const auth::PeerIdentity& tlsPeer) const;
  std::int64_t now() const;

  UdapSettings settings_;
  const auth::ChainVerifier& chains_;
  const auth::OrganizationDirectory& directory_;
  const auth::TlsMaterialStore& tls_;
  UdapClientStore& clients_;
  JtiRegistry& jtis_;
  Counters& counters_;
  Clock clock_;
};

// The scopes of `requested` (space-separated) that `allowed` grants: an exact match, or
// system/<Type>.read (or .rs) under system/*.read (or system/*.rs). Space-separated, in request order.
std::string grantedScope(const std::string& requested, const std::vector<std::string>& allowed);

}  // namespace hie::exchange

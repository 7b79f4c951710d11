// This node as a UDAP B2B client of its peers (HL7 UDAP Security IG; docs/udap.md, "This node as a
// client"): a PeerFanout decorator around the real outbound client. A call to a peer whose directory
// entry says auth=mtls passes through unchanged. For auth=udap, before the GET it
//   1. discovers GET {peer.baseUrl}/fhir/.well-known/udap and validates the signed_metadata (the x5c
//      chain to this node's trust anchors and CRLs, iss == sub == the peer's FHIR base URL and a SAN
//      URI of the leaf, the leaf maps to the peer's organization, exp, exp - iat <= 1 year, endpoints
//      under peer.baseUrl, the profiles, hl7-b2b, private_key_jwt and an algorithm this node signs with);
//   2. registers once (a software statement signed with this node's TLS key) and keeps the client_id
//      in the registration store;
//   3. gets an access token per (peer, purpose of use) with a client assertion carrying hl7-b2b, kept
//      in memory until 30 s before it expires;
// then sends the GET with `Authorization: Bearer`. A 401 answer drops the token and the call is made
// once more with a new one; invalid_client at the token endpoint registers once more. A call registers
// at most once; a refused registration (or invalid_client right after one) makes the peer's next
// registration wait a backoff (30 s, doubling to 10 min) during which its calls fail at once with
// udap_registration_refused. Everything runs
// within the caller's deadline. One acquisition per peer runs at a time (single flight: concurrent
// calls to one peer wait for it and share its result).
//
// Failures: PeerFailure.reason udap_metadata_invalid, udap_registration_refused, udap_token_refused
// (detail: the peer's OAuth error code or what did not validate, one sentence), udap_not_configured
// (udap.contact empty), udap_signing_failed; transport failures keep the inner client's reasons.
// PeerResponse/PeerFailure.auth = {"mtls+udap", client_id} for a udap peer.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "auth/registry/organization_registry.h"
#include "auth/udap/chain_verifier.h"
#include "common/result.h"
#include "exchange/handlers/peer_fanout.h"
#include "exchange/peers/peer_poster.h"

namespace hie::exchange {

// This node's client_id at each UDAP peer (table udap_peer_registrations), by organization identifier.
class UdapRegistrationStore {
 public:
  struct Registration {
    std::string registrationEndpoint;  // where it was registered; a new endpoint means a new registration
    std::string clientId;
  };
  virtual ~UdapRegistrationStore() = default;
  virtual Result<std::optional<Registration>> find(const std::string& organization) = 0;
  virtual Result<void> save(const std::string& organization, const Registration& registration) = 0;
  virtual Result<void> forget(const std::string& organization) = 0;
};

// Signs this node's JWTs (software statements, client assertions) with the key of its TLS certificate,
// x5c = its chain. Implemented over the TLS material in app/; tests use a test key.
class UdapJwtSigner {
 public:
  virtual ~UdapJwtSigner() = default;
  // RS256 or ES256 (...): the algorithm sign() uses; "" when the key cannot sign JWTs.
  virtual std::string algorithm() const = 0;
  // The compact JWS of claimsJson (a JSON object text).
  virtual Result<std::string> sign(const std::string& claimsJson) const = 0;
};

struct UdapClientOptions {
  std::string organization;      // node.organization: software statement iss/sub, hl7-b2b organization_id
  std::string organizationName;  // hl7-b2b organization_name ("" = the registry's name of organization)
  std::string clientName;        // udap.clientName
  std::string contact;           // udap.contact (mailto:); "" = calls to udap peers fail (udap_not_configured)
  std::string scope = "system/*.read";
  std::chrono::seconds tokenMargin{30};  // a token is dropped this long before it expires
};

class UdapPeerFanout : public PeerFanout {
 public:
  // inner: the GETs (discovery and the call itself) and submit; poster: registration and token POSTs;
  // chains: the x5c chain of signed_metadata; directory: organizations, to map the leaf. Everything
  // must outlive this. now: wall-clock seconds (tests fake it).
  UdapPeerFanout(PeerFanout& inner, PeerPoster& poster, UdapRegistrationStore& registrations,
                 const auth::ChainVerifier& chains, const auth::OrganizationDirectory& directory,
                 const UdapJwtSigner& signer, UdapClientOptions options,
                 std::function<std::int64_t()> now = nullptr);
  ~UdapPeerFanout() override;

  bool submit(std::chrono::steady_clock::time_point deadline, std::function<void()> call) override;
  tl::expected<PeerResponse, PeerFailure> get(const auth::PeerEntry& peer, const std::string& pathAndQuery,
                                              const HeaderList& headers,
                                              std::chrono::steady_clock::time_point deadline) override;
  // auth=udap: {"mtls+udap", this node's client_id at the peer as the last acquisition left it ("" when
  // none is known)}; other peers: the inner client's answer.
  PeerCallAuth authFor(const auth::PeerEntry& peer) const override;

  // The validated metadata of a peer, as the client uses it.
  struct Metadata {
    std::string baseUrl;               // the peer entry's baseUrl it was validated for
    std::string tokenEndpoint;         // absolute, from signed_metadata
    std::string registrationEndpoint;  // absolute, from signed_metadata
    std::int64_t expires = 0;          // signed_metadata exp
    std::string tokenPath;             // tokenEndpoint below baseUrl (what is posted to)
    std::string registrationPath;      // registrationEndpoint below baseUrl
  };

 private:
  struct Token {
    std::string accessToken;
    std::string clientId;
    std::chrono::steady_clock::time_point dropAt;
  };
  struct PeerState;  // per peer organization; its cache belongs to the call in flight
  struct Call;       // one acquisition's context (peer, request id, deadline)

  // The state of the peer's current directory entry: a new one (nothing cached) when the entry differs
  // from the one the state was made for (another baseUrl or `since`: changed, or removed and re-added).
  std::shared_ptr<PeerState> stateFor(const auth::PeerEntry& peer);
  // Whether call's state is still the one of its peer's current directory entry (the stored
  // registration belongs to that entry: a call of a changed or removed entry neither stores nor forgets it).
  bool isCurrent(const Call& call) const;
  // Forgets the stored registration at call's peer (invalid_client), unless the entry changed meanwhile.
  void forgetStoredRegistration(const Call& call);
  tl::expected<Token, PeerFailure> token(Call& call, const std::string& purpose, const std::string& stale);
  tl::expected<Metadata, PeerFailure> discover(const Call& call);
  tl::expected<std::string, PeerFailure> registerClient(const Call& call, const Metadata& metadata);
  // The token answer, or the peer's OAuth error code (second) when it refused.
  tl::expected<std::pair<std::string, std::int64_t>, PeerFailure> requestToken(const Call& call, const Metadata& metadata,
                                                                              const std::string& clientId,
                                                                              const std::string& purpose,
                                                                              std::string& oauthError);

  PeerFanout& inner_;
  PeerPoster& poster_;
  UdapRegistrationStore& registrations_;
  const auth::ChainVerifier& chains_;
  const auth::OrganizationDirectory& directory_;
  const UdapJwtSigner& signer_;
  UdapClientOptions options_;
  std::function<std::int64_t()> now_;
  mutable std::mutex mutex_;  // guards peers_ (the map, not the states)
  // By organization; the state of an auth=udap entry only (a call to the peer as auth=mtls drops it).
  std::map<std::string, std::shared_ptr<PeerState>> peers_;
};

}  // namespace hie::exchange

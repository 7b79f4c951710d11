// Everything between a parsed request and its reply: admit the peer by its
// verified certificate identity, then route. Protocol-independent; tested
// without sockets.
#pragma once

#include <string>

#include "auth/identity/peer_identity.h"
#include "auth/registry/organization_registry.h"
#include "common/counters.h"
#include "exchange/handlers/audit_api.h"
#include "exchange/handlers/capability_statement.h"
#include "exchange/handlers/exchange_api.h"
#include "exchange/handlers/record_api.h"
#include "exchange/handlers/record_write_api.h"
#include "exchange/handlers/udap_api.h"
#include "exchange/handlers/witness_api.h"
#include "exchange/http/bearer_check.h"
#include "exchange/http/http_call.h"
#include "exchange/http/request_signature.h"
#include "exchange/http/request_signature_check.h"

namespace hie::exchange {

struct BodyAllowance {
  std::size_t limit = 0;  // the largest body read before handle(); 0: none is read
  bool unread = false;    // the endpoint takes a body, but not from this peer: handle() answers without it
};

struct GateOutcome {
  HttpReply reply;
  std::string organization;  // identifier of the admitted organization, "" when refused
  RequestSignature signature;  // the check of the request's signature, for the audit entry
  // An accepted UDAP access token (BearerCheck): its purpose and client_id, "" without one. The
  // listener copies them into its HttpCall (authorizedPurpose, tokenClientId) for the audit entry.
  // tokenClientId is also set when the gate refused a token whose signature verified (the entry then
  // says mtls+udap and names the client); authorizedPurpose only when the token was accepted.
  std::string authorizedPurpose;
  std::string tokenClientId;
};

class RequestGate {
 public:
  // baseUrl: server.baseUrl, "" = from each request (see publicBaseUrl). witness: null when this
  // node is no witness (everything under /witness/ is then 404). signatures: the check of signed
  // requests between admission and routing; null = signatures are not looked at (check "").
  // writes: the FHIR write API (PUT, POST, DELETE under /fhir); null = writes are 405.
  // udap: the UDAP endpoints (UdapApi::isUdapPath), answered before identity mapping; null = udap.enabled
  // is false (the three paths are then 404 for any client, also before identity mapping, body unread).
  RequestGate(const auth::OrganizationDirectory& directory, const CapabilityStatementHandler& metadata,
              const RecordApi& records, const AuditApi& auditApi, const ExchangeApi* exchange, Counters& counters,
              std::string baseUrl, const WitnessApi* witness = nullptr,
              const RequestSignatureCheck* signatures = nullptr, const RecordWriteApi* writes = nullptr,
              const UdapApi* udap = nullptr);

  // The check of UDAP access tokens (Authorization: Bearer) between admission and the signature
  // check; null (the default) = no token is accepted: any Authorization header is 400 invalid_request.
  void useBearerCheck(const BearerCheck* bearer) { bearer_ = bearer; }

  // peer is the identity of the verified client certificate, the only source of identity.
  GateOutcome handle(const HttpCall& call, const auth::PeerIdentity& peer) const;

  // The body a request with this method and (decoded) path may carry from this peer, read whole by
  // the listener before handle(). POST /witness/add-checkpoint takes one (kMaxWitnessBodyBytes),
  // also on a node that is no witness (it answers 404); writes under /fhir (PUT, POST) take
  // records.maxRequestBytes when the node has the write API, but only from an organization that
  // may write (role local): anyone else's is left unread, and handle() refuses the request. With UDAP,
  // POST /oauth/register takes kMaxUdapRegisterBodyBytes and POST /oauth/token kMaxUdapTokenBodyBytes
  // from any client whose TLS chain verified (registration and tokens come before identity mapping);
  // without UDAP a body to those paths is left unread (unread: handle() answers 404).
  BodyAllowance bodyAllowance(const std::string& method, const std::string& path,
                              const auth::PeerIdentity& peer) const;

 private:
  HttpReply route(const HttpCall& call, const auth::Organization& organization,
                  const auth::RegistrySnapshot& registry) const;

  const auth::OrganizationDirectory& directory_;
  const CapabilityStatementHandler& metadata_;
  const RecordApi& records_;
  const AuditApi& auditApi_;
  const ExchangeApi* exchange_;  // null: this node does not initiate queries
  const WitnessApi* witness_;    // null: this node is no witness
  const RequestSignatureCheck* signatures_;  // null: signatures are not checked
  const RecordWriteApi* writes_;             // null: no write API
  const UdapApi* udap_;                      // null: UDAP is off
  const BearerCheck* bearer_ = nullptr;      // null: Authorization headers are refused
  Counters& counters_;
  std::string baseUrl_;
};

}  // namespace hie::exchange

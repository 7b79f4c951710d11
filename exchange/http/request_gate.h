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
#include "exchange/http/http_call.h"

namespace hie::exchange {

struct GateOutcome {
  HttpReply reply;
  std::string organization;  // identifier of the admitted organization, "" when refused
};

class RequestGate {
 public:
  // baseUrl: server.baseUrl, "" = from each request (see publicBaseUrl).
  RequestGate(const auth::OrganizationDirectory& directory, const CapabilityStatementHandler& metadata,
              const RecordApi& records, const AuditApi& auditApi, const ExchangeApi* exchange, Counters& counters,
              std::string baseUrl);

  // peer is the identity of the verified client certificate, the only source of identity.
  GateOutcome handle(const HttpCall& call, const auth::PeerIdentity& peer) const;

 private:
  HttpReply route(const HttpCall& call, const auth::Organization& organization,
                  const auth::RegistrySnapshot& registry) const;

  const auth::OrganizationDirectory& directory_;
  const CapabilityStatementHandler& metadata_;
  const RecordApi& records_;
  const AuditApi& auditApi_;
  const ExchangeApi* exchange_;  // null: this node does not initiate queries
  Counters& counters_;
  std::string baseUrl_;
};

}  // namespace hie::exchange

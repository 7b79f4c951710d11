#include "exchange/http/request_gate.h"

#include <strings.h>

#include <algorithm>

#include "audit/witnessed_log.h"
#include "auth/identity/identity_mapping.h"
#include "exchange/fhir/operation_outcome.h"
#include "exchange/http/base_url.h"

namespace hie::exchange {

RequestGate::RequestGate(const auth::OrganizationDirectory& directory, const CapabilityStatementHandler& metadata,
                         const RecordApi& records, const AuditApi& auditApi, const ExchangeApi* exchange,
                         Counters& counters, std::string baseUrl, const WitnessApi* witness,
                         const RequestSignatureCheck* signatures, const RecordWriteApi* writes, const UdapApi* udap)
    : directory_(directory),
      metadata_(metadata),
      records_(records),
      auditApi_(auditApi),
      exchange_(exchange),
      witness_(witness),
      signatures_(signatures),
      writes_(writes),
      udap_(udap),
      counters_(counters),
      baseUrl_(std::move(baseUrl)) {}

BodyAllowance RequestGate::bodyAllowance(const std::string& method, const std::string& path,
                                         const auth::PeerIdentity& peer) const {
  // Also when this node is no witness: the request then gets its 404 (audited as witnessing), not a 413.
  if (method == "POST" && path == kAddCheckpointPath) return BodyAllowance{kMaxWitnessBodyBytes, false};
  if (udap_ != nullptr && method == "POST" && path == kUdapRegisterPath) return BodyAllowance{kMaxUdapRegisterBodyBytes, false};
  if (udap_ != nullptr && method == "POST" && path == kUdapTokenPath) return BodyAllowance{kMaxUdapTokenBodyBytes, false};
  // UDAP off: the paths are 404 (handle), and their body is never read (not a 413 either).
  if (udap_ == nullptr && UdapApi::isUdapPath(path)) return BodyAllowance{0, true};
  if (writes_ == nullptr || method == "DELETE" || !isWritePath(method, path)) return BodyAllowance{};
  const auth::OrganizationSnapshot organizations = directory_.snapshot();
  const auth::IdentityMapping mapping = auth::mapIdentity(peer, organizations->organizations);
  // The role decides before anything else (RecordWriteApi); the body is worth reading only then.
  const bool mayWrite =
      mapping.outcome == auth::MappingOutcome::kAdmitted && mapping.organization->hasRole(auth::Role::kLocal);
  return mayWrite ? BodyAllowance{records_.settings().maxWriteBytes, false} : BodyAllowance{0, true};
}

GateOutcome RequestGate::handle(const HttpCall& call, const auth::PeerIdentity& peer) const {
  GateOutcome out;
  const auth::OrganizationSnapshot organizations = directory_.snapshot();
  const auth::IdentityMapping mapping = auth::mapIdentity(peer, organizations->organizations);
  if (UdapApi::isUdapPath(call.path)) {
    // Before the mapping: discovery is for unregistered clients, and registration and tokens identify
    // the client by its JWT's x5c (the TLS chain was verified by the handshake all the same). The
    // audit entry names the connection's organization when its certificate maps to one.
    // A signed request of an admitted organization (another node as a UDAP client signs every call)
    // is checked as any signed request, so that the answer covers its signature (req): a caller that
    // signed requires that of the answer. Unsigned requests and unmapped clients go on as they are.
    const bool isSigned = std::any_of(call.headers.begin(), call.headers.end(), [](const auto& h) {
      return strcasecmp(h.first.c_str(), "Signature") == 0;
    });
    // (A body left unread, UDAP off, has no digest to check: its request gets the 404 unsigned.)
    if (signatures_ != nullptr && isSigned && !call.bodyUnread && mapping.outcome == auth::MappingOutcome::kAdmitted) {
      RequestSignatureCheck::Outcome checked = signatures_->check(call, peer, *mapping.organization);
      out.signature = std::move(checked.signature);
      if (checked.refusal) {
        out.reply = std::move(*checked.refusal);
        out.organization = mapping.organization->identifier;
        return out;
      }
    }
    if (udap_ != nullptr) {
      out.reply = udap_->handle(call, peer);
    } else {
      // UDAP is off: 404 to any client whose TLS chain verified, member or not, as the IG asks of a
      // server without UDAP (discovery.md). Before the mapping as when UDAP is on, so that a
      // non-member gets the same kind of answer either way (the paths are public) and a member's and
      // a non-member's answers do not differ. A body is left unread (bodyAllowance).
      out.reply = operationOutcome(404, "not-found", "No such endpoint (UDAP is not enabled on this node).");
      out.reply.refusalReason = "no_route";
      counters_.refusals.inc({"request", out.reply.refusalReason});
    }
    if (mapping.outcome == auth::MappingOutcome::kAdmitted) out.organization = mapping.organization->identifier;
    return out;
  }
  if (mapping.outcome != auth::MappingOutcome::kAdmitted) {
    // The peer learns only that it is not admitted; the reason goes to logs and counters.
    out.reply = operationOutcome(403, "forbidden", "The client certificate does not identify an active member organization of this node.");
    out.reply.refusalReason = auth::mappingOutcomeName(mapping.outcome);
    counters_.refusals.inc({"identity", out.reply.refusalReason});
    return out;
  }
  out.organization = mapping.organization->identifier;
  if (call.bodyUnread && writes_ != nullptr) {
    // A write whose body the listener left unread (bodyAllowance): refused for the organization's
    // role before its signature is looked at, whose Content-Digest covers a body nobody read.
    out.reply = writes_->handle(call, *mapping.organization, publicBaseUrl(baseUrl_, call));
    if (!out.reply.refusalReason.empty()) counters_.refusals.inc({"request", out.reply.refusalReason});
    return out;
  }
  // A UDAP access token, after admission (it adds to the certificate, never replaces it), before
  // the signature check. The token's purpose becomes the request's (HttpCall::authorizedPurpose).
  HttpCall authorized;
  const HttpCall* routed = &call;
  if (bearer_ != nullptr) {
    BearerCheck::Outcome token = bearer_->check(call, peer, *mapping.organization, *organizations);
    if (token.refusal) {
      out.reply = std::move(*token.refusal);
      // A token refused after its signature verified still says how the caller authenticated.
      out.tokenClientId = std::move(token.clientId);
      // A signed request's refusal still answers its signature (req), or the calling node could not
      // tell this 401 from a forged one (and would not retry with a new token).
      if (signatures_ != nullptr) {
        RequestSignatureCheck::Outcome checked = signatures_->check(call, peer, *mapping.organization);
        out.signature = std::move(checked.signature);
        if (checked.refusal) out.reply = std::move(*checked.refusal);
      }
      return out;
    }
    if (!token.clientId.empty()) {
      authorized = call;
      authorized.authorizedPurpose = token.purpose;
      authorized.tokenClientId = token.clientId;
      routed = &authorized;
      out.authorizedPurpose = std::move(token.purpose);
      out.tokenClientId = std::move(token.clientId);
    }
  } else if (std::any_of(call.headers.begin(), call.headers.end(),
                         [](const auto& h) { return strcasecmp(h.first.c_str(), "Authorization") == 0; })) {
    out.reply = operationOutcome(400, "invalid", "This node accepts no Authorization header (UDAP is not enabled).");
    out.reply.refusalReason = "invalid_request";
    counters_.refusals.inc({"token", out.reply.refusalReason});
    return out;
  }
  if (signatures_ != nullptr) {
    // A refused signature never reaches a handler.
    RequestSignatureCheck::Outcome checked = signatures_->check(*routed, peer, *mapping.organization);
    out.signature = std::move(checked.signature);
    if (checked.refusal) {
      out.reply = std::move(*checked.refusal);
      // Like the 404 below: a refused witness submission must not grow this log with entries that are
      // not witnessing (the peers' loop breaker counts on it).
      if (call.path.compare(0, 9, "/witness/") == 0) out.reply.access.action = audit::kWitnessAction;
      return out;
    }
  }
  out.reply = route(*routed, *mapping.organization, *organizations);
  if (!out.reply.refusalReason.empty()) counters_.refusals.inc({"request", out.reply.refusalReason});
  return out;
}

HttpReply RequestGate::route(const HttpCall& call, const auth::Organization& organization,
                             const auth::RegistrySnapshot& registry) const {
  if (call.path == "/fhir/metadata") {
    if (call.method != "GET" && call.method != "HEAD") {
      HttpReply reply = operationOutcome(405, "not-supported", "Only GET is supported here.");
      reply.headers.emplace_back("Allow", "GET");
      reply.refusalReason = "method_not_allowed";
      return reply;
    }
    HttpReply reply = metadata_.handle(call);
    reply.access.action = "capabilities";
    return reply;
  }
  // The Host header is checked here once; handlers that echo URLs get only the result.
  if (writes_ != nullptr && isWritePath(call.method, call.path)) {
    return writes_->handle(call, organization, publicBaseUrl(baseUrl_, call));
  }
  if (call.path.compare(0, 6, "/fhir/") == 0) {
    return records_.handle(call, organization, registry, publicBaseUrl(baseUrl_, call));
  }
  if (call.path.compare(0, 7, "/audit/") == 0) return auditApi_.handle(call, organization, publicBaseUrl(baseUrl_, call));
  if (exchange_ != nullptr && call.path.compare(0, 10, "/exchange/") == 0) {
    return exchange_->handle(call, organization, registry);
  }
  if (call.path.compare(0, 9, "/witness/") == 0) {
    if (witness_ != nullptr) return witness_->handle(call, registry);
    // Audited as witnessing even here: a peer that takes this node for a witness must not make
    // its log grow with entries that are not (see the witness submitter's loop breaker).
    HttpReply reply = operationOutcome(404, "not-found", "No such endpoint.");
    reply.refusalReason = "no_route";
    reply.access.action = audit::kWitnessAction;
    return reply;
  }
  HttpReply reply = operationOutcome(404, "not-found", "No such endpoint.");
  reply.refusalReason = "no_route";
  return reply;
}

}  // namespace hie::exchange

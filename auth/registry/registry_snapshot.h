// Everything the request path needs to decide who is who and who may see
// what: organizations with pins, active grants, patient consent. Immutable
// once built; replaced as a whole when the database changes.
#pragma once

#include <map>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/policy/policy.h"
#include "auth/registry/organization.h"

namespace hie::auth {

// Where a member organization's node answers (the peer directory).
struct PeerEntry {
  std::string organization;  // identifier
  std::string baseUrl;       // https://host[:port][/prefix]
  // C2SP verifier keys (c2sp.org/signed-note), "" when not registered: the key the peer's audit
  // log signs its checkpoints with (type 01, named by the log's origin; this node witnesses that
  // log), and the peer's witness key (type 04; it cosigns this node's checkpoints).
  std::string logKey{};
  std::string witnessKey{};
  // How this node authenticates its calls to the peer: "mtls" (mutual TLS alone) or "udap" (mutual
  // TLS and a UDAP access token from the peer's token endpoint; docs/udap.md).
  std::string auth = "mtls";
  // When the entry got its URL and auth (the peers row's created_at, microseconds since the epoch: set
  // when it is added and when its URL or auth changes). What a client caches for a peer (UDAP client_id,
  // tokens) belongs to one such entry: a removed and re-added or changed entry has another.
  std::int64_t since = 0;
};

// A client application registered at this node through UDAP dynamic client registration.
struct UdapClientEntry {
  std::string clientId;
  std::string organization;  // identifier of the organization it was registered for
  bool active = false;       // false once cancelled
};

struct RegistrySnapshot {
  std::vector<Organization> organizations;
  std::map<std::string, std::vector<Grant>> grantsByOrganization;  // identifier -> active grants
  std::unordered_map<std::string, PatientConsent> consents;         // patient id -> consent
  std::vector<PeerEntry> peers;                                      // ordered by organization
  std::map<std::string, UdapClientEntry> udapClients;                // client_id -> registered client

  const Organization* organization(const std::string& identifier) const;

  const std::vector<Grant>& grantsOf(const std::string& identifier) const;
  const PatientConsent* consentOf(const std::string& patientId) const;  // nullptr when none recorded
};

}  // namespace hie::auth

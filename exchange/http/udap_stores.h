// Where UdapApi keeps what it must share with every process of the node: the
// clients registered through POST /oauth/register, and the (iss, jti) pairs
// of the JWTs it accepted (replay). PostgreSQL implementations in
// pg_udap_store.h; tests use fakes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace hie::exchange {

// One row of udap_clients.
struct UdapClientRecord {
  std::string clientId;
  std::string organization;        // identifier of the organization it was registered for
  std::string sanUri;              // the software statement's iss
  bool active = false;             // false once cancelled
  std::string clientName;
  std::vector<std::string> contacts;
  std::string scope;               // the granted scope, space-separated
  std::string softwareStatement;   // the compact JWT as received
  std::string certSha256;          // lowercase hex of its x5c leaf
  std::string registeredAt;        // ISO 8601 UTC, for listings
  std::string updatedAt;
};

// A registration (or modification) to store: everything of UdapClientRecord but client_id and status.
struct UdapRegistration {
  std::string organization;
  std::string sanUri;
  std::string clientName;
  std::vector<std::string> contacts;
  std::string scope;
  std::string softwareStatement;
  std::string certSha256;
};

struct UdapRegistered {
  std::string clientId;
  bool created = false;  // true: a new client_id (201); false: the active one of that SAN URI, modified (200)
};

class UdapClientStore {
 public:
  virtual ~UdapClientStore() = default;
  // Creates the active registration of registration.sanUri, or replaces the one that is active
  // (same client_id). Two concurrent calls for one SAN URI never make two active clients.
  virtual Result<UdapRegistered> registerClient(const UdapRegistration& registration) = 0;
  // Cancels the active registration of sanUri; its client_id, or nullopt when none was active.
  virtual Result<std::optional<std::string>> cancelBySan(const std::string& sanUri) = 0;
  // Cancels clientId; false when no active client has that id.
  virtual Result<bool> cancelById(const std::string& clientId) = 0;
  virtual Result<std::optional<UdapClientRecord>> find(const std::string& clientId) const = 0;
  // Every registration, active first, newest first.
  virtual Result<std::vector<UdapClientRecord>> list() const = 0;
};

class JtiRegistry {
 public:
  virtual ~JtiRegistry() = default;
  // Records (issuer, jti) until rememberUntil (seconds since the epoch); false when it is already
  // recorded (a replay).
  virtual Result<bool> remember(const std::string& issuer, const std::string& jti, std::int64_t rememberUntil,
                                std::int64_t now) = 0;
};

}  // namespace hie::exchange

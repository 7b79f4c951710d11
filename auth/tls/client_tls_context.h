// The outbound (client) TLS context for one peer: presents the node's own
// certificate, and inside OpenSSL's verification checks the server's chain
// (trust bundle, CRLs, serverAuth), its host name or IP address, and that
// the certificate maps by the identity rules to the organization the peer
// directory names. Checking inside OpenSSL matters: Poco skips its own
// host-name check when a handshake outlasts the connect timeout.
#pragma once

#include <memory>
#include <mutex>

#include <openssl/ssl.h>
#include <string>

#include <Poco/Net/Context.h>

#include "auth/registry/organization_registry.h"
#include "auth/tls/tls_material.h"
#include "common/result.h"

namespace hie::auth {

// Owns the context and what its verify callback reads.
struct ClientTlsContext {
  Poco::Net::Context::Ptr context;
  struct Expectation {
    const OrganizationDirectory* directory = nullptr;
    std::string organization;
    // The newest resumable session the peer handed out (TLS 1.3 tickets arrive
    // after the handshake, so they are caught by OpenSSL's new-session callback).
    std::mutex sessionMutex;
    ossl::UniquePtr<SSL_SESSION> latestSession;  // one reference
  };
  // A new reference to the newest resumable session, or nullptr; the caller frees it.
  SSL_SESSION* takeResumableSession() const;
  std::unique_ptr<Expectation> expectation;  // the callback's argument; lives as long as the context
};

// The name the peer's certificate must carry: a DNS name, or an IP literal
// (without brackets) matched against the certificate's IP addresses.
struct ExpectedHost {
  std::string name;
  bool isIp = false;
};

Result<ClientTlsContext> makeClientContext(const TlsMaterial& material, const ExpectedHost& host,
                                           const std::string& expectedOrganization,
                                           const OrganizationDirectory& directory);

}  // namespace hie::auth

// The outbound (client) TLS context for one peer: presents the node's own
// certificate, and inside OpenSSL's verification checks the server's chain
// (trust bundle, CRLs, serverAuth), its host name or IP address, and that
// the certificate maps by the identity rules to the organization the peer
// directory names. Checking inside OpenSSL matters: Poco skips its own
// host-name check when a handshake outlasts the connect timeout.
#pragma once

#include <memory>
#include <string>

#include <Poco/Net/Context.h>

#include "auth/organization_registry.h"
#include "auth/peer_url.h"
#include "auth/tls_material.h"
#include "common/result.h"

namespace hie::auth {

// Owns the context and what its verify callback reads.
struct ClientTlsContext {
  Poco::Net::Context::Ptr context;
  struct Expectation {
    const OrganizationDirectory* directory = nullptr;
    std::string organization;
  };
  std::unique_ptr<Expectation> expectation;  // the callback's argument; lives as long as the context
};

Result<ClientTlsContext> makeClientContext(const TlsMaterial& material, const PeerUrl& url,
                                           const std::string& expectedOrganization,
                                           const OrganizationDirectory& directory);

}  // namespace hie::auth

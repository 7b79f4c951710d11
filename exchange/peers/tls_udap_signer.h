// UdapJwtSigner over the node's TLS material: JWTs signed with the key of its TLS certificate
// (RS256 for RSA, ES256 for EC P-256, ES384 for P-384), x5c = the certificate and its intermediates.
// The material in force at each call is used, so a reload changes the key of the next JWT.
#pragma once

#include <functional>
#include <memory>

#include "auth/tls/tls_material.h"
#include "exchange/peers/udap_peer_fanout.h"

namespace hie::exchange {

class TlsUdapSigner : public UdapJwtSigner {
 public:
  explicit TlsUdapSigner(std::function<std::shared_ptr<const auth::TlsMaterial>()> material);
  std::string algorithm() const override;
  Result<std::string> sign(const std::string& claimsJson) const override;

 private:
  std::function<std::shared_ptr<const auth::TlsMaterial>()> material_;
};

}  // namespace hie::exchange

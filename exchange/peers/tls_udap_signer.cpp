#include "exchange/peers/tls_udap_signer.h"

#include "auth/udap/jws_crypto.h"

namespace hie::exchange {

TlsUdapSigner::TlsUdapSigner(std::function<std::shared_ptr<const auth::TlsMaterial>()> material)
    : material_(std::move(material)) {}

std::string TlsUdapSigner::algorithm() const {
  const auto material = material_();
  auto algorithm = auth::udap::algorithmForKey(material->key.get());
  return algorithm ? auth::udap::jwsAlgorithmName(*algorithm) : "";
}

Result<std::string> TlsUdapSigner::sign(const std::string& claimsJson) const {
  const auto material = material_();
  std::vector<std::string> x5c{auth::udap::certificateDer(material->leaf.get())};
  for (int i = 0; material->intermediates && i < sk_X509_num(material->intermediates.get()); ++i) {
    x5c.push_back(auth::udap::certificateDer(sk_X509_value(material->intermediates.get(), i)));
  }
  return auth::udap::signJws(material->key.get(), x5c, "JWT", claimsJson);
}

}  // namespace hie::exchange

// libFuzzer target: identity extraction and mapping from arbitrary DER.
#include <cstddef>
#include <cstdint>

#include <openssl/x509.h>

#include "auth/identity/certificate_identity.h"
#include "auth/identity/identity_mapping.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const unsigned char* cursor = data;
  X509* cert = d2i_X509(nullptr, &cursor, static_cast<long>(size));
  if (cert == nullptr) return 0;
  auto identity = hie::auth::extractIdentity(cert);
  if (identity) {
    static const std::vector<hie::auth::Organization> kOrgs = {
        {"urn:oid:2.16.840.1.113883.3.7001", "A", hie::auth::OrganizationStatus::kActive, {hie::auth::Role::kMember}, {}, {}},
        {"urn:oid:1.2.3", "B", hie::auth::OrganizationStatus::kSuspended, {}, {std::string(64, 'a')}, {}}};
    (void)hie::auth::mapIdentity(*identity, kOrgs);
  }
  X509_free(cert);
  return 0;
}

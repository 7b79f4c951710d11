// The node's TLS files, loaded and checked once: own certificate chain and
// key, trust anchors, optional CRLs. Every error names the file at fault.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "auth/tls/tls_files.h"
#include "common/ossl.h"
#include "common/result.h"

namespace hie::auth {

struct CrlInfo {
  std::string issuerDn;
  std::int64_t nextUpdate = 0;  // seconds since the epoch; 0 when absent
};

struct TlsMaterial {
  ossl::UniquePtr<X509> leaf;
  ossl::X509Stack intermediates;
  ossl::UniquePtr<EVP_PKEY> key;
  ossl::X509Stack anchors;
  std::vector<ossl::UniquePtr<X509_CRL>> crls;
  std::vector<CrlInfo> crlInfo;
};

// kInvalidInput naming the file for: unreadable file, no/garbled PEM, an
// encrypted key, a key that does not match the certificate, an own
// certificate that has expired, an unreadable CRL.
Result<TlsMaterial> loadTlsMaterial(const TlsFiles& files);

// A fresh X509_STORE holding the anchors and CRLs; with CRLs, revocation is
// checked for the leaf and every intermediate (no CRL = refused).
Result<ossl::UniquePtr<X509_STORE>> makeVerifyStore(const TlsMaterial& material);

// The trust anchors' subject names, for the CertificateRequest (so clients pick
// the right certificate). A new stack the caller hands to SSL(_CTX)_set_client_CA_list.
STACK_OF(X509_NAME) * clientCaNames(const TlsMaterial& material);

}  // namespace hie::auth

// Where the node's TLS material lives (tls.certificate, tls.privateKey,
// tls.trustBundle, tls.crl): file names only, loaded by tls_material.h.
#pragma once

#include <string>

namespace hie::auth {

struct TlsFiles {
  std::string certificate;  // PEM, leaf then intermediates
  std::string privateKey;   // PEM, unencrypted
  std::string trustBundle;  // PEM trust anchors
  std::string crl;          // optional PEM file with one or more CRLs ("" = none)
};

}  // namespace hie::auth

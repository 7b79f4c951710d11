// The test PKI: certificates built at test time (EC P-256 by default, any
// validity, EKU, SAN, basic constraint, weak key or SHA-1 a case needs).
// The builder is the development CA's (auth/tls/dev_pki.h), which `hie-node pki`
// also uses; no private key is ever committed.
#pragma once

#include "auth/tls/dev_pki.h"

namespace hie::testing {
using namespace hie::devpki;  // CertSpec, Credential, issue, TestPki, makeCrlPem, TempDir, writeFile, ...
}  // namespace hie::testing

// What a verified client (or server) certificate says about its holder. Pure data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hie::auth {

struct PeerIdentity {
  std::string subjectDn;      // RFC 2253 form
  std::string issuerDn;       // RFC 2253 form
  std::string serialHex;      // uppercase hex
  std::int64_t notBefore = 0; // seconds since the epoch (UTC)
  std::int64_t notAfter = 0;
  std::vector<std::string> sanUris;
  std::vector<std::string> sanDns;
  std::string certSha256;     // lowercase hex of SHA-256 over the certificate DER
  std::string spkiSha256;     // lowercase hex of SHA-256 over the SubjectPublicKeyInfo DER
  std::string publicKeyDer;   // the SubjectPublicKeyInfo DER: verifies the holder's message signatures
  std::string chainPem;       // the chain the holder presented, leaf first (PEM); "" where not known
};

}  // namespace hie::auth

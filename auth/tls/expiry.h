// Which TLS material expires soon: the node certificate, each trust anchor,
// each CRL's nextUpdate, against warning thresholds in days. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "auth/tls/tls_material.h"

namespace hie::auth {

struct ExpiryWarning {
  std::string what;         // "node certificate CN=...", "trust anchor ...", "CRL of ..."
  std::int64_t at = 0;      // seconds since the epoch
  int thresholdDays = 0;    // the smallest threshold it is within (0 = already past)
  std::string key() const;  // what + threshold: log each crossing once
};

// notAfter in seconds since the epoch (0 when unreadable), and the subject in OpenSSL's one-line form.
std::int64_t certificateNotAfter(const X509* certificate);
std::string subjectOneLine(const X509* certificate);

// thresholds in days, any order (e.g. 30, 7, 1).
std::vector<ExpiryWarning> expiryWarnings(const TlsMaterial& material, std::int64_t now, std::vector<int> thresholds);

}  // namespace hie::auth

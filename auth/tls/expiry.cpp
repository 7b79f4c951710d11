#include "auth/tls/expiry.h"

#include <algorithm>

namespace hie::auth {
std::int64_t certificateNotAfter(const X509* certificate) {
  return ossl::epochSeconds(X509_get0_notAfter(certificate)).value_or(0);
}

std::string subjectOneLine(const X509* certificate) {
  return ossl::nameOneLine(X509_get_subject_name(certificate));
}

std::string ExpiryWarning::key() const {
  return what + "#" + std::to_string(at) + "#" + std::to_string(thresholdDays);  // a renewed item warns again
}

std::vector<ExpiryWarning> expiryWarnings(const TlsMaterial& material, std::int64_t now, std::vector<int> thresholds) {
  std::sort(thresholds.begin(), thresholds.end());
  std::vector<ExpiryWarning> out;
  auto check = [&](const std::string& what, std::int64_t at) {
    if (at == 0) return;
    if (at <= now) {
      out.push_back(ExpiryWarning{what, at, 0});
      return;
    }
    for (int days : thresholds) {
      if (at - now <= static_cast<std::int64_t>(days) * 86400) {
        out.push_back(ExpiryWarning{what, at, days});
        return;
      }
    }
  };
  check("node certificate " + subjectOneLine(material.leaf.get()), certificateNotAfter(material.leaf.get()));
  for (int i = 0; i < sk_X509_num(material.anchors.get()); ++i) {
    const X509* a = sk_X509_value(material.anchors.get(), i);
    check("trust anchor " + subjectOneLine(a), certificateNotAfter(a));
  }
  for (const auto& crl : material.crlInfo) check("CRL of " + crl.issuerDn + " (nextUpdate)", crl.nextUpdate);
  return out;
}

}  // namespace hie::auth

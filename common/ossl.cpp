#include "common/ossl.h"

#include <ctime>

#include <openssl/err.h>

namespace hie::ossl {

std::string drainErrors() {
  std::string out;
  char buf[256];
  while (unsigned long e = ERR_get_error()) {
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

std::string takeDer(unsigned char* der, int length) {
  Buffer<unsigned char> owned(der);
  if (der == nullptr || length <= 0) return {};
  return std::string(reinterpret_cast<const char*>(der), static_cast<std::size_t>(length));
}

std::string nameOneLine(const X509_NAME* name) {
  Buffer<char> text(X509_NAME_oneline(name, nullptr, 0));
  return text ? std::string(text.get()) : std::string("?");
}

std::optional<std::int64_t> epochSeconds(const ASN1_TIME* time) {
  struct tm tm {};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return std::nullopt;
  return static_cast<std::int64_t>(timegm(&tm));
}

}  // namespace hie::ossl

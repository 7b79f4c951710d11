#include "common/ossl.h"

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

}  // namespace hie::ossl

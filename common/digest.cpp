#include "common/digest.h"

#include <openssl/evp.h>

#include "common/hex.h"

namespace hie {

std::string sha256Hex(const std::string& bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  return lowerHex(md, len);
}

}  // namespace hie

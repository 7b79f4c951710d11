#include "auth/tls/ocsp_mode.h"

namespace hie::auth {

bool parseOcspMode(const std::string& text, OcspMode& out) {
  if (text == "off") out = OcspMode::kOff;
  else if (text == "prefer") out = OcspMode::kPrefer;
  else if (text == "require") out = OcspMode::kRequire;
  else return false;
  return true;
}

}  // namespace hie::auth

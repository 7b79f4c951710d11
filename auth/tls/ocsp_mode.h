// tls.ocsp: whether client certificates' status is asked of their OCSP
// responder (see ocsp_checker.h).
#pragma once

#include <string>

namespace hie::auth {

enum class OcspMode { kOff, kPrefer, kRequire };
// "off" | "prefer" | "require"; false for anything else.
bool parseOcspMode(const std::string& text, OcspMode& out);

}  // namespace hie::auth

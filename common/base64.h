// Base64 (RFC 4648 section 4, with padding), as signed notes, structured-field
// byte sequences and the audit's signatures use it.
#pragma once

#include <string>

namespace hie {

std::string base64Encode(const std::string& bytes);
// false on malformed input. Lenient about what OpenSSL's decoder skips: callers that need the
// one canonical text compare base64Encode(out) with text.
bool base64Decode(const std::string& text, std::string& out);

}  // namespace hie

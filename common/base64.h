// Base64 (RFC 4648 section 4, with padding), as signed notes, structured-field
// byte sequences and the audit's signatures use it.
#pragma once

#include <string>

namespace hie {

std::string base64Encode(const std::string& bytes);
// false on malformed input. Lenient about what OpenSSL's decoder skips: callers that need the
// one canonical text compare base64Encode(out) with text.
bool base64Decode(const std::string& text, std::string& out);

// Base64url (RFC 4648 section 5) without padding, as JOSE (RFC 7515 section 2) uses it.
std::string base64UrlEncode(const std::string& bytes);
// Strict: only [A-Za-z0-9_-], no '=', length % 4 != 1, and the unused low bits of the last character
// zero, so exactly one text decodes to given bytes (base64UrlEncode(out) == text). false otherwise.
bool base64UrlDecode(const std::string& text, std::string& out);

}  // namespace hie

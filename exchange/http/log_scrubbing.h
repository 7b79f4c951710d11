// What of a request may reach a log line: network text made printable and
// bounded, and paths without the resource ids that can name a patient.
#pragma once

#include <cstddef>
#include <string>

namespace hie::exchange {

// Printable ASCII only, at most max bytes of text (then "..."): every other
// byte, '"' and '\\' become \xNN, so a peer cannot forge or split log lines.
std::string scrubForLog(const std::string& text, std::size_t max = 256);

// A header field's value as it may be logged: credentials never (Authorization, Proxy-Authorization:
// "<scheme> [redacted]", the scheme alone kept; the token or password is dropped whole, never cut),
// every other value as scrubForLog makes it. name is matched case-insensitively.
std::string headerValueForLog(const std::string& name, const std::string& value, std::size_t max = 256);

// The path as logged: after /fhir/{Type}/ the rest becomes {id}
// (/fhir/Patient/p1/_history/2 -> /fhir/Patient/{id}); other paths unchanged.
std::string pathForLog(const std::string& rawPath);

}  // namespace hie::exchange

// Strict parsers for the bodies of the OAuth endpoints (/oauth/token,
// /oauth/register): application/x-www-form-urlencoded (RFC 6749 appendix B;
// section 3.2: a parameter sent twice is refused) and a JSON object whose
// keys, at every level, are unique. Pure.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <tl/expected.hpp>

namespace hie::exchange {

// name -> value, both decoded ('+' is a space, %XX a byte; the result must be UTF-8). Refused
// (the reason word): form_malformed (an empty pair, no '=', a bad %-escape, not UTF-8, an empty
// name), form_duplicate_parameter.
tl::expected<std::map<std::string, std::string>, std::string> parseFormBody(const std::string& body);

// One member of a JSON object: its kind and, for a string, its decoded value.
struct JsonMember {
  enum class Kind { kString, kNumber, kBool, kNull, kObject, kArray } kind = Kind::kNull;
  std::string text;                   // kString: the decoded string; otherwise the raw JSON text
  std::vector<std::string> strings;   // kArray: the decoded strings when every element is one
  bool allStrings = false;            // kArray: every element is a string
};

// The members of the JSON object text (RFC 8259; nesting up to 32 levels; nothing but white space
// after it). Refused (the reason word): json_malformed, json_not_object, json_duplicate_key.
tl::expected<std::map<std::string, JsonMember>, std::string> parseJsonObject(const std::string& text);

// The value of Content-Type without parameters, lowercased ("application/json").
std::string mediaType(const std::string& contentType);

}  // namespace hie::exchange

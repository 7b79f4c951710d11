// Adapter (auth/udap internal): JSON object texts from JWS headers and claims
// parsed strictly with Poco. One object, nothing after it, no duplicate key at
// any depth (RFC 7515 4 / RFC 7519 4: a parser must refuse or use the last,
// and two parsers that choose differently disagree about a token), well-formed
// UTF-8, no NUL byte, nesting bounded. Integers are told apart from other numbers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <Poco/JSON/Object.h>
#include <tl/expected.hpp>

namespace hie::auth::udap {

enum class JsonDefect {
  kSyntax,        // not JSON, bytes after the value, invalid UTF-8, NUL, too deep
  kDuplicateKey,  // a key twice in one object
  kNotObject,     // JSON, but not an object
};

constexpr std::size_t kMaxJsonDepth = 16;

tl::expected<Poco::JSON::Object::Ptr, JsonDefect> parseJsonObject(const std::string& text);

// The member `name` as a JSON integer that fits std::int64_t; nullopt when absent or of any other
// type (a string, a number with a fraction or exponent, a boolean, ...).
std::optional<std::int64_t> jsonInteger(const Poco::JSON::Object& object, const std::string& name);

// The member `name` as a string; nullopt when absent or not a string.
std::optional<std::string> jsonString(const Poco::JSON::Object& object, const std::string& name);

}  // namespace hie::auth::udap

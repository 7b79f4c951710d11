// Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past
// U+10FFFF). PostgreSQL refuses any other text, and JSON must not carry it.
#pragma once

#include <cstddef>
#include <string_view>

namespace hie {

// Length (1-4) of the well-formed UTF-8 sequence starting at text[i], or 0
// when none starts there (i < text.size()).
std::size_t utf8SequenceAt(std::string_view text, std::size_t i);

// Where the first malformed UTF-8 sequence starts: text.size() when there is none.
std::size_t validUtf8Prefix(std::string_view text);

inline bool isValidUtf8(std::string_view text) { return validUtf8Prefix(text) == text.size(); }

}  // namespace hie

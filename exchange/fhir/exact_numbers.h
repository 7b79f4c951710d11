// FHIR numbers exactly as received. Poco's JSON parser turns every number
// into a double or a 64-bit integer and loses digits (1.50 becomes 1.5,
// 18446744073709551617 becomes 1), while FHIR requires a decimal's precision
// to be kept. So before a document is parsed, each number is replaced by a
// marker string (U+0001 and its position), and after the node has written
// the document out again, each marker is replaced by the number's own text.
// Pure; the bundle importer and the write API use it.
#pragma once

#include <string>
#include <vector>

namespace hie::exchange {

struct HiddenNumbers {
  std::string text;                  // the document with every valid JSON number replaced by a marker string
  std::vector<std::string> numbers;  // their texts, by marker
  bool ok = true;                    // false: a string of the document holds U+0001 (FHIR strings may not)
};

// Numbers that are not valid JSON numbers are left as they are (the parser then refuses them).
HiddenNumbers hideNumbers(const std::string& json);

// Every marker string in serialized ("\u0001" and a position, as JSON writes it) becomes its number.
std::string restoreNumbers(const std::string& serialized, const std::vector<std::string>& numbers);

// True when text is one of the markers (a value that was a number in the document).
bool isNumberMarker(const std::string& text);

}  // namespace hie::exchange

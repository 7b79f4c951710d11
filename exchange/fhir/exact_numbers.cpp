#include "exchange/fhir/exact_numbers.h"

#include <string>

namespace hie::exchange {
namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }

// The length of the JSON number (RFC 8259 section 6) at text[at], or 0 when there is none.
std::size_t numberAt(const std::string& text, std::size_t at) {
  std::size_t i = at;
  if (i < text.size() && text[i] == '-') ++i;
  if (i >= text.size() || !digit(text[i])) return 0;
  if (text[i] == '0') {
    ++i;
  } else {
    while (i < text.size() && digit(text[i])) ++i;
  }
  if (i < text.size() && text[i] == '.') {
    if (i + 1 >= text.size() || !digit(text[i + 1])) return 0;
    ++i;
    while (i < text.size() && digit(text[i])) ++i;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    std::size_t j = i + 1;
    if (j < text.size() && (text[j] == '+' || text[j] == '-')) ++j;
    if (j >= text.size() || !digit(text[j])) return 0;
    while (j < text.size() && digit(text[j])) ++j;
    i = j;
  }
  // A number ends at a structural character or white space; anything else is no JSON.
  if (i < text.size() && text[i] != ',' && text[i] != ']' && text[i] != '}' && text[i] != ' ' && text[i] != '\t' &&
      text[i] != '\n' && text[i] != '\r') {
    return 0;
  }
  return i - at;
}

}  // namespace

HiddenNumbers hideNumbers(const std::string& json) {
  HiddenNumbers out;
  out.text.reserve(json.size());
  bool inString = false;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (inString) {
      out.text.push_back(c);
      if (c == '\\' && i + 1 < json.size()) {
        // \u0001 would read as a marker: FHIR strings hold no such character anyway.
        if (json[i + 1] == 'u' && i + 5 < json.size() && json.compare(i + 2, 4, "0001") == 0) out.ok = false;
        out.text.push_back(json[++i]);
      } else if (c == '"') {
        inString = false;
      } else if (c == '\x01') {
        out.ok = false;
      }
      continue;
    }
    if (c == '"') {
      inString = true;
      out.text.push_back(c);
      continue;
    }
    const std::size_t length = (c == '-' || digit(c)) ? numberAt(json, i) : 0;
    if (length == 0) {
      out.text.push_back(c);
      continue;
    }
    out.text += "\"\\u0001" + std::to_string(out.numbers.size()) + "\"";
    out.numbers.push_back(json.substr(i, length));
    i += length - 1;
  }
  return out;
}

std::string restoreNumbers(const std::string& serialized, const std::vector<std::string>& numbers) {
  static const std::string kMarker = "\"\\u0001";
  std::string out;
  out.reserve(serialized.size());
  std::size_t from = 0;
  for (std::size_t at = serialized.find(kMarker); at != std::string::npos; at = serialized.find(kMarker, from)) {
    std::size_t end = at + kMarker.size();
    while (end < serialized.size() && digit(serialized[end])) ++end;
    const std::size_t digits = end - at - kMarker.size();
    const bool whole = digits > 0 && digits <= 9 && end < serialized.size() && serialized[end] == '"';
    const std::size_t k = whole ? std::stoul(serialized.substr(at + kMarker.size(), digits)) : 0;
    if (!whole || k >= numbers.size()) {
      out.append(serialized, from, end - from);
      from = end;
      continue;
    }
    out.append(serialized, from, at - from);
    out += numbers[k];
    from = end + 1;
  }
  out.append(serialized, from, std::string::npos);
  return out;
}

bool isNumberMarker(const std::string& text) {
  if (text.size() < 2 || text[0] != '\x01') return false;
  for (std::size_t i = 1; i < text.size(); ++i) {
    if (!digit(text[i])) return false;
  }
  return true;
}

}  // namespace hie::exchange

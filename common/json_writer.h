// The one way replies are built as JSON (RFC 8259): a small streaming writer
// that escapes every string it is given, so no untrusted text can change the
// structure of a document. Misuse (a value without a key in an object, an
// unclosed document, ...) is a broken invariant and aborts.
//
// Strings: '"' and '\' are escaped; U+0000-U+001F and U+007F become \b \t \n
// \f \r or \u00XX (lowercase hex); well-formed UTF-8 (RFC 3629) is copied as
// it is; every byte that does not belong to a well-formed UTF-8 sequence
// becomes \ufffd (U+FFFD). The output is therefore always valid UTF-8 JSON.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace hie {

class JsonWriter {
 public:
  JsonWriter& beginObject();
  JsonWriter& endObject();
  JsonWriter& beginArray();
  JsonWriter& endArray();
  // Inside an object, before each value.
  JsonWriter& key(std::string_view name);

  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(bool flag);
  JsonWriter& null();
  // A number already in JSON syntax, as a JSON parser or number formatter wrote it
  // (common/poco_json.cpp); copied without checks.
  JsonWriter& numberText(std::string_view number) { return number_(std::string(number)); }
  template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  JsonWriter& value(T number) {
    return number_(std::to_string(number));
  }
  // One complete JSON value this node produced or parsed itself (a stored
  // resource as PostgreSQL serializes jsonb, an AuditEvent rendered by audit/),
  // copied without checks. Never pass untrusted text here.
  JsonWriter& rawValue(std::string_view json);

  template <class T>
  JsonWriter& member(std::string_view name, const T& v) {
    key(name);
    return value(v);
  }

  // The finished document; aborts unless exactly one complete value was written.
  std::string take();

 private:
  struct Frame {
    bool object;  // else an array
    bool empty;   // nothing written in it yet
  };
  JsonWriter& number_(const std::string& digits);
  void beforeValue();
  JsonWriter& end(bool object);

  std::string out_;
  std::vector<Frame> open_;
  bool keyPending_ = false;
  bool done_ = false;        // the top-level value is complete
};

// text as one JSON string literal, quotes included, escaped as above.
std::string jsonString(std::string_view text);
void appendJsonString(std::string& out, std::string_view text);

}  // namespace hie

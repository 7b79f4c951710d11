#include "common/json_writer.h"

#include <cstdio>
#include <cstdlib>

namespace hie {
namespace {

// A writer used out of order is a bug in the node, never a reaction to input.
void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "JsonWriter misuse: %s\n", what);
  std::abort();
}

bool continuation(unsigned char c) { return c >= 0x80 && c <= 0xbf; }

// Length of the well-formed UTF-8 sequence (RFC 3629, table 3-7 of Unicode)
// of two or more bytes at text[i], or 0 when none starts there.
std::size_t multiByteSequence(std::string_view text, std::size_t i) {
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  const std::size_t left = text.size() - i;
  const unsigned char c = at(0);
  if (c >= 0xc2 && c <= 0xdf) return left >= 2 && continuation(at(1)) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (left < 3 || !continuation(at(2))) return 0;
    const unsigned char d = at(1);
    const bool ok = c == 0xe0 ? (d >= 0xa0 && d <= 0xbf) : c == 0xed ? (d >= 0x80 && d <= 0x9f) : continuation(d);
    return ok ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (left < 4 || !continuation(at(2)) || !continuation(at(3))) return 0;
    const unsigned char d = at(1);
    const bool ok = c == 0xf0 ? (d >= 0x90 && d <= 0xbf) : c == 0xf4 ? (d >= 0x80 && d <= 0x8f) : continuation(d);
    return ok ? 4 : 0;
  }
  return 0;
}

}  // namespace

void appendJsonString(std::string& out, std::string_view text) {
  static const char kHex[] = "0123456789abcdef";
  out.reserve(out.size() + text.size() + 2);
  out.push_back('"');
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t n = multiByteSequence(text, i);
      if (n == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(text, i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
}

std::string jsonString(std::string_view text) {
  std::string out;
  appendJsonString(out, text);
  return out;
}

void JsonWriter::beforeValue() {
  require(!done_, "a second top-level value");
  if (open_.empty()) return;
  Frame& top = open_.back();
  if (top.object) {
    require(keyPending_, "a value in an object without a key");
    keyPending_ = false;
  } else {
    if (!top.empty) out_.push_back(',');
    top.empty = false;
  }
}

JsonWriter& JsonWriter::key(std::string_view name) {
  require(!open_.empty() && open_.back().object && !keyPending_, "a key outside an object or after another key");
  if (!open_.back().empty) out_.push_back(',');
  open_.back().empty = false;
  appendJsonString(out_, name);
  out_.push_back(':');
  keyPending_ = true;
  return *this;
}

JsonWriter& JsonWriter::beginObject() {
  beforeValue();
  out_.push_back('{');
  open_.push_back({true, true});
  return *this;
}

JsonWriter& JsonWriter::beginArray() {
  beforeValue();
  out_.push_back('[');
  open_.push_back({false, true});
  return *this;
}

JsonWriter& JsonWriter::end(bool object) {
  require(!open_.empty() && open_.back().object == object && !keyPending_, "an end that matches no begin");
  out_.push_back(object ? '}' : ']');
  open_.pop_back();
  done_ = open_.empty();
  return *this;
}

JsonWriter& JsonWriter::endObject() { return end(true); }
JsonWriter& JsonWriter::endArray() { return end(false); }

JsonWriter& JsonWriter::value(std::string_view text) {
  beforeValue();
  appendJsonString(out_, text);
  done_ = open_.empty();
  return *this;
}

JsonWriter& JsonWriter::value(bool flag) {
  beforeValue();
  out_ += flag ? "true" : "false";
  done_ = open_.empty();
  return *this;
}

JsonWriter& JsonWriter::number_(const std::string& digits) {
  beforeValue();
  out_ += digits;
  done_ = open_.empty();
  return *this;
}

JsonWriter& JsonWriter::rawValue(std::string_view json) {
  require(!json.empty(), "an empty raw value");
  beforeValue();
  out_.append(json);
  done_ = open_.empty();
  return *this;
}

std::string JsonWriter::take() {
  require(done_, "an unfinished document");
  std::string document = std::move(out_);
  out_.clear();
  done_ = false;
  return document;
}

}  // namespace hie

#include "common/json_writer.h"

#include "common/hex.h"

#include <cstdio>
#include <cstdlib>

#include "common/utf8.h"

namespace hie {
namespace {

// A writer used out of order is a bug in the node, never a reaction to input.
void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "JsonWriter misuse: %s\n", what);
  std::abort();
}

}  // namespace

void appendJsonString(std::string& out, std::string_view text) {
  out.reserve(out.size() + text.size() + 2);
  out.push_back('"');
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t n = utf8SequenceAt(text, i);
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
          appendHexByte(out, c, false);
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

JsonWriter& JsonWriter::null() {
  beforeValue();
  out_ += "null";
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

#include "exchange/http/form_body.h"

#include <cctype>
#include <set>

#include "common/utf8.h"

namespace hie::exchange {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool formDecode(const std::string& in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hexValue(in[i + 1]);
      const int lo = hexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return isValidUtf8(out);
}

class JsonScanner {
 public:
  explicit JsonScanner(const std::string& text) : s_(text) {}

  tl::expected<std::map<std::string, JsonMember>, std::string> top() {
    ws();
    if (pos_ >= s_.size()) return tl::make_unexpected(std::string("json_malformed"));
    if (s_[pos_] != '{') {
      std::string ignored;
      if (!value(0, ignored, nullptr)) return tl::make_unexpected(error_);
      return tl::make_unexpected(std::string("json_not_object"));
    }
    std::map<std::string, JsonMember> members;
    if (!object(0, &members)) return tl::make_unexpected(error_);
    ws();
    if (pos_ != s_.size()) return tl::make_unexpected(std::string("json_malformed"));
    return members;
  }

 private:
  bool fail(const char* reason = "json_malformed") {
    if (error_.empty()) error_ = reason;
    return false;
  }
  void ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  bool literal(const char* word) {
    const std::string w(word);
    if (s_.compare(pos_, w.size(), w) != 0) return fail();
    pos_ += w.size();
    return true;
  }
  static void appendUtf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  bool hex4(unsigned& out) {
    if (pos_ + 4 > s_.size()) return fail();
    out = 0;
    for (int k = 0; k < 4; ++k) {
      const int v = hexValue(s_[pos_++]);
      if (v < 0) return fail();
      out = out * 16 + static_cast<unsigned>(v);
    }
    return true;
  }
  bool string(std::string& out) {
    if (pos_ >= s_.size() || s_[pos_] != '"') return fail();
    ++pos_;
    out.clear();
    while (true) {
      if (pos_ >= s_.size()) return fail();
      const unsigned char c = static_cast<unsigned char>(s_[pos_++]);
      if (c == '"') break;
      if (c < 0x20) return fail();
      if (c != '\\') {
        out.push_back(static_cast<char>(c));
        continue;
      }
      if (pos_ >= s_.size()) return fail();
      const char e = s_[pos_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          unsigned cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            unsigned low = 0;
            if (s_.compare(pos_, 2, "\\u") != 0) return fail();
            pos_ += 2;
            if (!hex4(low)) return false;
            if (low < 0xDC00 || low > 0xDFFF) return fail();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return fail();
          }
          appendUtf8(out, cp);
          break;
        }
        default: return fail();
      }
    }
    if (!isValidUtf8(out)) return fail();
    return true;
  }
  bool number() {
    const std::size_t start = pos_;
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    if (pos_ >= s_.size()) return fail();
    if (s_[pos_] == '0') {
      ++pos_;
    } else if (s_[pos_] >= '1' && s_[pos_] <= '9') {
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    } else {
      return fail();
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      const std::size_t digits = pos_;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      if (pos_ == digits) return fail();
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      const std::size_t digits = pos_;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      if (pos_ == digits) return fail();
    }
    return pos_ > start;
  }
  bool object(int depth, std::map<std::string, JsonMember>* members) {
    if (depth > 32) return fail();
    ++pos_;  // '{'
    std::set<std::string> keys;
    ws();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      ws();
      std::string key;
      if (!string(key)) return false;
      if (!keys.insert(key).second) return fail("json_duplicate_key");
      ws();
      if (pos_ >= s_.size() || s_[pos_] != ':') return fail();
      ++pos_;
      ws();
      JsonMember member;
      std::string raw;
      if (!value(depth + 1, raw, &member)) return false;
      if (members != nullptr) (*members)[key] = std::move(member);
      ws();
      if (pos_ >= s_.size()) return fail();
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == '}') {
        ++pos_;
        return true;
      }
      return fail();
    }
  }
  bool array(int depth, JsonMember* member) {
    if (depth > 32) return fail();
    ++pos_;  // '['
    bool allStrings = true;
    std::vector<std::string> strings;
    ws();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
    } else {
      while (true) {
        ws();
        JsonMember element;
        std::string raw;
        if (!value(depth + 1, raw, &element)) return false;
        if (element.kind == JsonMember::Kind::kString) {
          strings.push_back(element.text);
        } else {
          allStrings = false;
        }
        ws();
        if (pos_ >= s_.size()) return fail();
        if (s_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (s_[pos_] == ']') {
          ++pos_;
          break;
        }
        return fail();
      }
    }
    if (member != nullptr) {
      member->allStrings = allStrings;
      if (allStrings) member->strings = std::move(strings);
    }
    return true;
  }
  bool value(int depth, std::string& raw, JsonMember* member) {
    ws();
    if (pos_ >= s_.size()) return fail();
    const std::size_t start = pos_;
    JsonMember scratch;
    JsonMember& m = member != nullptr ? *member : scratch;
    bool ok = false;
    switch (s_[pos_]) {
      case '{': m.kind = JsonMember::Kind::kObject; ok = object(depth, nullptr); break;
      case '[': m.kind = JsonMember::Kind::kArray; ok = array(depth, &m); break;
      case '"': m.kind = JsonMember::Kind::kString; ok = string(m.text); break;
      case 't': m.kind = JsonMember::Kind::kBool; ok = literal("true"); break;
      case 'f': m.kind = JsonMember::Kind::kBool; ok = literal("false"); break;
      case 'n': m.kind = JsonMember::Kind::kNull; ok = literal("null"); break;
      default: m.kind = JsonMember::Kind::kNumber; ok = number(); break;
    }
    if (!ok) return false;
    raw = s_.substr(start, pos_ - start);
    if (m.kind != JsonMember::Kind::kString) m.text = raw;
    return true;
  }

  const std::string& s_;
  std::size_t pos_ = 0;
  std::string error_;
};

}  // namespace

tl::expected<std::map<std::string, std::string>, std::string> parseFormBody(const std::string& body) {
  std::map<std::string, std::string> out;
  if (body.empty()) return out;
  std::size_t pos = 0;
  while (pos <= body.size()) {
    std::size_t end = body.find('&', pos);
    if (end == std::string::npos) end = body.size();
    const std::string pair = body.substr(pos, end - pos);
    const std::size_t eq = pair.find('=');
    if (pair.empty() || eq == std::string::npos || eq == 0) return tl::make_unexpected(std::string("form_malformed"));
    std::string name, value;
    if (!formDecode(pair.substr(0, eq), name) || !formDecode(pair.substr(eq + 1), value) || name.empty()) {
      return tl::make_unexpected(std::string("form_malformed"));
    }
    if (!out.emplace(std::move(name), std::move(value)).second) {
      return tl::make_unexpected(std::string("form_duplicate_parameter"));
    }
    pos = end + 1;
  }
  return out;
}

tl::expected<std::map<std::string, JsonMember>, std::string> parseJsonObject(const std::string& text) {
  if (!isValidUtf8(text)) return tl::make_unexpected(std::string("json_malformed"));
  return JsonScanner(text).top();
}

std::string mediaType(const std::string& contentType) {
  std::string type = contentType.substr(0, contentType.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.pop_back();
  std::size_t start = type.find_first_not_of(" \t");
  type = start == std::string::npos ? std::string() : type.substr(start);
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return type;
}

}  // namespace hie::exchange

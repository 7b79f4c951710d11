#include "auth/signatures/structured_field.h"

#include <algorithm>

#include "common/base64.h"

namespace hie::auth::sf {
namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isLcAlpha(char c) { return c >= 'a' && c <= 'z'; }
bool isAlpha(char c) { return isLcAlpha(c) || (c >= 'A' && c <= 'Z'); }
bool isKeyChar(char c) { return isLcAlpha(c) || isDigit(c) || c == '_' || c == '-' || c == '.' || c == '*'; }
bool isTchar(char c) {
  if (isAlpha(c) || isDigit(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-': case '.':
    case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}
bool isBase64Char(char c) { return isAlpha(c) || isDigit(c) || c == '+' || c == '/' || c == '='; }

tl::unexpected<Error> malformed(const std::string& what) {
  return fail(ErrorCode::kInvalidInput, "structured field: " + what, "malformed structured field: " + what);
}

// RFC 8941 section 4.2: a cursor over the input; every parse consumes from the front.
class Parser {
 public:
  explicit Parser(std::string_view input) : in_(input) {}

  bool empty() const { return pos_ >= in_.size(); }
  char peek() const { return in_[pos_]; }
  void skipSp() {
    while (!empty() && peek() == ' ') ++pos_;
  }
  bool consume(char c) {
    if (empty() || peek() != c) return false;
    ++pos_;
    return true;
  }
  void skipOws() {
    while (!empty() && (peek() == ' ' || peek() == '\t')) ++pos_;
  }

  Result<std::string> key() {
    if (empty() || !(isLcAlpha(peek()) || peek() == '*')) return malformed("a key must start with a-z or *");
    std::size_t start = pos_;
    while (!empty() && isKeyChar(peek())) ++pos_;
    return std::string(in_.substr(start, pos_ - start));
  }

  Result<BareItem> bareItem() {
    if (empty()) return malformed("an item is missing");
    const char c = peek();
    if (c == '-' || isDigit(c)) return number();
    if (c == '"') return string();
    if (c == '*' || isAlpha(c)) return token();
    if (c == ':') return bytes();
    if (c == '?') return boolean();
    return malformed("unexpected character at offset " + std::to_string(pos_));
  }

  Result<Parameters> parameters() {
    Parameters params;
    while (!empty() && peek() == ';') {
      ++pos_;
      skipSp();
      auto k = key();
      if (!k) return tl::make_unexpected(k.error());
      BareItem value = BareItem::ofBoolean(true);
      if (!empty() && peek() == '=') {
        ++pos_;
        auto v = bareItem();
        if (!v) return tl::make_unexpected(v.error());
        value = std::move(*v);
      }
      auto at = std::find_if(params.begin(), params.end(), [&](const auto& p) { return p.first == *k; });
      if (at != params.end()) {
        at->second = std::move(value);
      } else {
        if (params.size() == kMaxParameters) {
          return malformed("more than " + std::to_string(kMaxParameters) + " parameters");
        }
        params.emplace_back(std::move(*k), std::move(value));
      }
    }
    return params;
  }

  Result<Item> item() {
    auto v = bareItem();
    if (!v) return tl::make_unexpected(v.error());
    auto p = parameters();
    if (!p) return tl::make_unexpected(p.error());
    return Item{std::move(*v), std::move(*p)};
  }

  Result<InnerList> innerList() {
    ++pos_;  // "("
    InnerList list;
    while (!empty()) {
      skipSp();
      if (empty()) break;
      if (peek() == ')') {
        ++pos_;
        auto p = parameters();
        if (!p) return tl::make_unexpected(p.error());
        list.params = std::move(*p);
        return list;
      }
      if (list.items.size() == kMaxInnerListItems) {
        return malformed("an inner list has more than " + std::to_string(kMaxInnerListItems) + " items");
      }
      auto i = item();
      if (!i) return tl::make_unexpected(i.error());
      list.items.push_back(std::move(*i));
      if (empty() || (peek() != ' ' && peek() != ')')) return malformed("inner list items are separated by spaces");
    }
    return malformed("an inner list is not closed");
  }

  Result<Member> member() {
    Member m;
    if (!empty() && peek() == '(') {
      auto l = innerList();
      if (!l) return tl::make_unexpected(l.error());
      m.isInnerList = true;
      m.inner = std::move(*l);
      return m;
    }
    auto i = item();
    if (!i) return tl::make_unexpected(i.error());
    m.item = std::move(*i);
    return m;
  }

  // After a List or Dictionary member: end of input, or a comma and another member.
  Result<bool> nextMember() {
    skipOws();
    if (empty()) return false;
    if (peek() != ',') return malformed("members are separated by commas");
    ++pos_;
    skipOws();
    if (empty()) return malformed("a trailing comma");
    return true;
  }

 private:
  Result<BareItem> number() {
    bool negative = false;
    if (peek() == '-') {
      negative = true;
      ++pos_;
    }
    if (empty() || !isDigit(peek())) return malformed("a number needs a digit");
    std::string digits;
    std::size_t dot = std::string::npos;
    while (!empty()) {
      const char c = peek();
      if (isDigit(c)) {
        digits += c;
      } else if (c == '.' && dot == std::string::npos) {
        if (digits.size() > 12) return malformed("a decimal has more than 12 integer digits");
        dot = digits.size();
        digits += c;
      } else {
        break;
      }
      ++pos_;
      if (dot == std::string::npos && digits.size() > 15) return malformed("an integer has more than 15 digits");
      if (dot != std::string::npos && digits.size() > 16) return malformed("a decimal is too long");
    }
    if (dot == std::string::npos) {
      std::int64_t value = 0;
      for (char c : digits) value = value * 10 + (c - '0');
      return BareItem::ofInteger(negative ? -value : value);
    }
    if (digits.back() == '.') return malformed("a decimal ends with '.'");
    std::string whole = digits.substr(0, dot);
    std::string fraction = digits.substr(dot + 1);
    if (fraction.size() > 3) return malformed("a decimal has more than 3 fractional digits");
    whole.erase(0, std::min(whole.find_first_not_of('0'), whole.size()));
    while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
    BareItem out;
    out.kind = BareItem::Kind::kDecimal;
    const bool zero = whole.empty() && fraction.empty();
    out.text = std::string(negative && !zero ? "-" : "") + (whole.empty() ? "0" : whole) + "." +
               (fraction.empty() ? "0" : fraction);
    return out;
  }

  Result<BareItem> string() {
    ++pos_;  // '"'
    std::string out;
    while (!empty()) {
      const char c = in_[pos_++];
      if (c == '\\') {
        if (empty()) return malformed("a string ends in an escape");
        const char next = in_[pos_++];
        if (next != '"' && next != '\\') return malformed("a string escapes something other than \" or \\");
        out += next;
      } else if (c == '"') {
        return BareItem::ofString(std::move(out));
      } else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) {
        return malformed("a string holds a character outside printable ASCII");
      } else {
        out += c;
      }
    }
    return malformed("a string is not closed");
  }

  Result<BareItem> token() {
    std::size_t start = pos_++;
    while (!empty() && (isTchar(peek()) || peek() == ':' || peek() == '/')) ++pos_;
    return BareItem::ofToken(std::string(in_.substr(start, pos_ - start)));
  }

  Result<BareItem> bytes() {
    ++pos_;  // ':'
    const std::size_t end = in_.find(':', pos_);
    if (end == std::string_view::npos) return malformed("a byte sequence is not closed");
    std::string text(in_.substr(pos_, end - pos_));
    pos_ = end + 1;
    if (!std::all_of(text.begin(), text.end(), isBase64Char)) return malformed("a byte sequence is not base64");
    // '=' only as padding, at most two, at the end; missing padding is accepted (section 4.2.7).
    const std::size_t firstPad = text.find('=');
    if (firstPad != std::string::npos &&
        (text.size() - firstPad > 2 || text.find_first_not_of('=', firstPad) != std::string::npos)) {
      return malformed("a byte sequence has misplaced padding");
    }
    if (firstPad == std::string::npos) {
      if (text.size() % 4 == 1) return malformed("a byte sequence is not base64");
      while (text.size() % 4 != 0) text += '=';
    }
    std::string raw;
    if (!base64Decode(text, raw)) return malformed("a byte sequence is not base64");
    return BareItem::ofBytes(std::move(raw));
  }

  Result<BareItem> boolean() {
    ++pos_;  // '?'
    if (empty()) return malformed("a boolean is missing its value");
    const char c = in_[pos_++];
    if (c == '1') return BareItem::ofBoolean(true);
    if (c == '0') return BareItem::ofBoolean(false);
    return malformed("a boolean is ?0 or ?1");
  }

  std::string_view in_;
  std::size_t pos_ = 0;
};

template <class T, class Body>
Result<T> whole(std::string_view input, Body body) {
  Parser p(input);
  p.skipSp();
  auto out = body(p);
  if (!out) return out;
  p.skipSp();
  if (!p.empty()) return malformed("unexpected text after the value");
  return out;
}

}  // namespace

BareItem BareItem::ofInteger(std::int64_t value) {
  BareItem b;
  b.kind = Kind::kInteger;
  b.integer = value;
  return b;
}
BareItem BareItem::ofString(std::string value) {
  BareItem b;
  b.kind = Kind::kString;
  b.text = std::move(value);
  return b;
}
BareItem BareItem::ofToken(std::string value) {
  BareItem b;
  b.kind = Kind::kToken;
  b.text = std::move(value);
  return b;
}
BareItem BareItem::ofBytes(std::string raw) {
  BareItem b;
  b.kind = Kind::kByteSequence;
  b.text = std::move(raw);
  return b;
}
BareItem BareItem::ofBoolean(bool value) {
  BareItem b;
  b.kind = Kind::kBoolean;
  b.boolean = value;
  return b;
}
bool BareItem::operator==(const BareItem& other) const {
  if (kind != other.kind) return false;
  switch (kind) {
    case Kind::kInteger:
      return integer == other.integer;
    case Kind::kBoolean:
      return boolean == other.boolean;
    default:
      return text == other.text;
  }
}

Result<List> parseList(std::string_view input) {
  return whole<List>(input, [](Parser& p) -> Result<List> {
    List list;
    while (!p.empty()) {
      if (list.size() == kMaxMembers) return malformed("more than " + std::to_string(kMaxMembers) + " members");
      auto m = p.member();
      if (!m) return tl::make_unexpected(m.error());
      list.push_back(std::move(*m));
      auto more = p.nextMember();
      if (!more) return tl::make_unexpected(more.error());
      if (!*more) break;
    }
    return list;
  });
}

Result<Dictionary> parseDictionary(std::string_view input, Duplicates duplicates) {
  return whole<Dictionary>(input, [duplicates](Parser& p) -> Result<Dictionary> {
    Dictionary dict;
    while (!p.empty()) {
      auto k = p.key();
      if (!k) return tl::make_unexpected(k.error());
      Member m;
      if (p.consume('=')) {
        auto parsed = p.member();
        if (!parsed) return tl::make_unexpected(parsed.error());
        m = std::move(*parsed);
      } else {
        auto params = p.parameters();
        if (!params) return tl::make_unexpected(params.error());
        m.item = Item{BareItem::ofBoolean(true), std::move(*params)};
      }
      auto at = std::find_if(dict.begin(), dict.end(), [&](const auto& e) { return e.first == *k; });
      if (at != dict.end()) {
        if (duplicates == Duplicates::kRefuse) return malformed("the key \"" + *k + "\" appears twice");
        at->second = std::move(m);
      } else {
        if (dict.size() == kMaxMembers) return malformed("more than " + std::to_string(kMaxMembers) + " members");
        dict.emplace_back(std::move(*k), std::move(m));
      }
      auto more = p.nextMember();
      if (!more) return tl::make_unexpected(more.error());
      if (!*more) break;
    }
    return dict;
  });
}

Result<Item> parseItem(std::string_view input) {
  return whole<Item>(input, [](Parser& p) { return p.item(); });
}

bool isKey(std::string_view text) {
  return !text.empty() && (isLcAlpha(text[0]) || text[0] == '*') && std::all_of(text.begin(), text.end(), isKeyChar);
}

std::string serializeBareItem(const BareItem& item) {
  switch (item.kind) {
    case BareItem::Kind::kInteger:
      return std::to_string(item.integer);
    case BareItem::Kind::kDecimal:
    case BareItem::Kind::kToken:
      return item.text;
    case BareItem::Kind::kString: {
      std::string out = "\"";
      for (char c : item.text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      return out + "\"";
    }
    case BareItem::Kind::kByteSequence:
      return ":" + base64Encode(item.text) + ":";
    case BareItem::Kind::kBoolean:
      return item.boolean ? "?1" : "?0";
  }
  return "";
}

std::string serializeParameters(const Parameters& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    out += ';';
    out += key;
    if (!(value.kind == BareItem::Kind::kBoolean && value.boolean)) out += "=" + serializeBareItem(value);
  }
  return out;
}

std::string serializeItem(const Item& item) { return serializeBareItem(item.value) + serializeParameters(item.params); }

std::string serializeInnerList(const InnerList& list) {
  std::string out = "(";
  for (std::size_t i = 0; i < list.items.size(); ++i) {
    if (i > 0) out += ' ';
    out += serializeItem(list.items[i]);
  }
  return out + ")" + serializeParameters(list.params);
}

std::string serializeMember(const Member& member) {
  return member.isInnerList ? serializeInnerList(member.inner) : serializeItem(member.item);
}

std::string serializeList(const List& list) {
  std::string out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out += ", ";
    out += serializeMember(list[i]);
  }
  return out;
}

std::string serializeDictionary(const Dictionary& dictionary) {
  std::string out;
  for (std::size_t i = 0; i < dictionary.size(); ++i) {
    if (i > 0) out += ", ";
    const auto& [key, member] = dictionary[i];
    out += key;
    if (!member.isInnerList && member.item.value.kind == BareItem::Kind::kBoolean && member.item.value.boolean) {
      out += serializeParameters(member.item.params);
    } else {
      out += "=" + serializeMember(member);
    }
  }
  return out;
}

}  // namespace hie::auth::sf

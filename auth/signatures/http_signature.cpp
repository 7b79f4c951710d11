#include "auth/signatures/http_signature.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <string_view>

#include "auth/signatures/structured_field.h"
#include "common/base64.h"

namespace hie::auth {
namespace {

constexpr std::size_t kMaxSignatures = 16;
constexpr std::size_t kMaxComponents = 64;
constexpr std::size_t kMaxBase = 8192;
constexpr std::size_t kMaxSignatureBytes = 1024;  // RSA-8192 is 1024 bytes; ours are at most 512

tl::unexpected<Error> invalid(const std::string& what) {
  return fail(ErrorCode::kInvalidInput, "message signature: " + what, what);
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
  return out;
}

bool isTchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A lower-case field name: what RFC 9421 2.1 allows as a component name for a field.
bool isFieldComponentName(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) { return isTchar(c) && !(c >= 'A' && c <= 'Z'); });
}

// Printable ASCII and spaces, no leading or trailing space (RFC 9421 2.2).
bool isDerivedValue(const std::string& value) {
  if (!value.empty() && (value.front() == ' ' || value.back() == ' ')) return false;
  return std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

// field-content without obs-text: visible ASCII, SP and HTAB.
bool isFieldValue(const std::string& value) {
  return std::all_of(value.begin(), value.end(), [](char c) { return (c >= 0x20 && c <= 0x7e) || c == '\t'; });
}

std::string serializeName(const std::string& name) { return sf::serializeBareItem(sf::BareItem::ofString(name)); }

// The parts of an absolute target URI, as sent (not decoded).
struct TargetUri {
  std::string scheme;
  std::string authority;
  std::string path;
  bool hasQuery = false;
  std::string query;  // without '?'
};

std::optional<TargetUri> splitTargetUri(const std::string& uri) {
  const std::size_t colon = uri.find("://");
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  TargetUri t;
  t.scheme = lower(uri.substr(0, colon));
  const std::size_t start = colon + 3;
  std::size_t end = uri.find_first_of("/?#", start);
  if (end == std::string::npos) end = uri.size();
  t.authority = uri.substr(start, end - start);
  if (t.authority.empty()) return std::nullopt;
  std::size_t fragment = uri.find('#', end);
  if (fragment == std::string::npos) fragment = uri.size();
  const std::size_t q = uri.find('?', end);
  if (q != std::string::npos && q < fragment) {
    t.path = uri.substr(end, q - end);
    t.hasQuery = true;
    t.query = uri.substr(q + 1, fragment - q - 1);
  } else {
    t.path = uri.substr(end, fragment - end);
  }
  return t;
}

// HTTP 4.2.3: host in lower case, the scheme's default port left out.
std::string normalizedAuthority(const TargetUri& t) {
  std::string authority = lower(t.authority);
  const std::string defaultPort = t.scheme == "https" ? ":443" : t.scheme == "http" ? ":80" : "";
  if (!defaultPort.empty() && authority.size() > defaultPort.size() &&
      authority.compare(authority.size() - defaultPort.size(), defaultPort.size(), defaultPort) == 0) {
    authority.resize(authority.size() - defaultPort.size());
  }
  return authority;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded parsing of one name or value: '+' is a space, %XX a byte.
std::string formDecode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() && hexValue(text[i + 1]) >= 0 && hexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(hexValue(text[i + 1]) * 16 + hexValue(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

// "Percent-encode after encoding" with the application/x-www-form-urlencoded set, spaces as %20
// (RFC 9421 2.2.8 and its examples).
std::string formEncode(const std::string& bytes) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '*' || c == '-' ||
        c == '.' || c == '_') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

Result<std::string> queryParam(const TargetUri& t, const std::string& name) {
  std::optional<std::string> found;
  std::string_view query(t.query);
  std::size_t pos = 0;
  while (t.hasQuery && pos <= query.size()) {
    std::size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view pair = query.substr(pos, amp - pos);
    pos = amp + 1;
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    const std::string key = formEncode(formDecode(pair.substr(0, eq)));
    if (key != name) continue;
    if (found) return invalid("the query parameter \"" + name + "\" occurs more than once");
    found = eq == std::string_view::npos ? std::string() : formEncode(formDecode(pair.substr(eq + 1)));
  }
  if (!found) return invalid("the query parameter \"" + name + "\" is not in the target URI");
  return *found;
}

bool sameFieldName(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// One line of a field, RFC 9421 2.1: obs-fold (line breaks followed by whitespace) becomes one space
// (any other line break stays, and makes the value invalid later); spaces and tabs trimmed.
void appendLine(std::string& out, const std::string& value) {
  const std::size_t start = out.size();
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '\r' && value[i] != '\n') {
      out += value[i];
      continue;
    }
    std::size_t j = i;
    while (j < value.size() && (value[j] == '\r' || value[j] == '\n')) ++j;
    if (j < value.size() && (value[j] == ' ' || value[j] == '\t')) {
      while (j < value.size() && (value[j] == ' ' || value[j] == '\t')) ++j;
      out += ' ';
    } else {
      out += '\n';
    }
    i = j - 1;
  }
  const std::size_t first = out.find_first_not_of(" \t", start);
  if (first == std::string::npos) {
    out.resize(start);
    return;
  }
  out.erase(start, first - start);
  out.resize(out.find_last_not_of(" \t") + 1);
}

}  // namespace

std::optional<std::string> combinedField(const FieldList& fields, const std::string& name) {
  std::optional<std::string> out;
  for (const auto& [fieldName, value] : fields) {
    if (!sameFieldName(fieldName, name)) continue;
    if (out) {
      *out += ", ";  // appended in place: ~100 lines of 8 KiB are not copied once per line
    } else {
      out.emplace();
    }
    appendLine(*out, value);
  }
  return out;
}

bool hasField(const FieldList& fields, const std::string& name) {
  return std::any_of(fields.begin(), fields.end(), [&](const auto& f) { return sameFieldName(f.first, name); });
}

namespace {

// Fields this node knows to be Dictionaries; any other field with "sf" is read as a List (an Item is a
// List of one), falling back to a Dictionary when it does not parse as one.
bool isKnownDictionary(const std::string& name) {
  static const char* kDictionaries[] = {"signature",          "signature-input", "accept-signature",
                                        "content-digest",     "repr-digest",     "want-content-digest",
                                        "want-repr-digest",   "priority"};
  return std::any_of(std::begin(kDictionaries), std::end(kDictionaries), [&](const char* d) { return name == d; });
}

Result<std::string> fieldValue(const HttpMessage& message, const ComponentId& id) {
  const auto field = combinedField(message.fields, id.name);
  if (!field) return invalid("the covered field \"" + id.name + "\" is not in the message");
  const std::string& combined = *field;
  if (!isFieldValue(combined)) return invalid("the field \"" + id.name + "\" holds a character outside ASCII");
  if (!id.key.empty()) {
    auto dict = sf::parseDictionary(combined);
    if (!dict) return invalid("the field \"" + id.name + "\" is not a dictionary");
    auto at = std::find_if(dict->begin(), dict->end(), [&](const auto& m) { return m.first == id.key; });
    if (at == dict->end()) return invalid("the field \"" + id.name + "\" has no member \"" + id.key + "\"");
    return sf::serializeMember(at->second);
  }
  if (id.sf) {
    if (isKnownDictionary(id.name)) {
      auto dict = sf::parseDictionary(combined);
      if (!dict) return invalid("the field \"" + id.name + "\" is not a dictionary");
      return sf::serializeDictionary(*dict);
    }
    if (auto list = sf::parseList(combined)) return sf::serializeList(*list);
    auto dict = sf::parseDictionary(combined);
    if (!dict) return invalid("the field \"" + id.name + "\" is not a structured field");
    return sf::serializeDictionary(*dict);
  }
  return combined;
}

Result<std::string> derivedValue(const HttpMessage& message, const ComponentId& id) {
  const bool isRequest = message.status == 0;
  if (id.name == "@status") {
    if (isRequest) return invalid("\"@status\" names a request");
    if (message.status < 100 || message.status > 999) return invalid("the status is not three digits");
    return std::to_string(message.status);
  }
  if (!isRequest) return invalid("\"" + id.name + "\" needs a request (a response covers it with req)");
  if (id.name == "@method") {
    if (message.method.empty() || !isDerivedValue(message.method)) return invalid("the method is missing");
    return message.method;
  }
  auto target = splitTargetUri(message.targetUri);
  if (!target) return invalid("the target URI is not absolute");
  if (id.name == "@target-uri") return message.targetUri;
  if (id.name == "@authority") return normalizedAuthority(*target);
  if (id.name == "@scheme") return target->scheme;
  if (id.name == "@path") return target->path.empty() ? std::string("/") : target->path;
  if (id.name == "@query") return "?" + target->query;
  if (id.name == "@request-target") {
    return (target->path.empty() ? std::string("/") : target->path) + (target->hasQuery ? "?" + target->query : "");
  }
  if (id.name == "@query-param") return queryParam(*target, id.paramName);
  return invalid("the derived component \"" + id.name + "\" is not supported");
}

Result<std::string> componentValue(const HttpMessage& message, const HttpMessage* request, const ComponentId& id) {
  const HttpMessage* context = &message;
  if (id.req) {
    if (message.status == 0) return invalid("\"" + id.name + "\";req appears in a request's signature");
    if (request == nullptr) return invalid("\"" + id.name + "\";req needs the request, which is not known");
    context = request;
  }
  if (id.name.empty()) return invalid("an empty component name");
  if (id.name[0] != '@') {
    if (!isFieldComponentName(id.name)) return invalid("the component name \"" + id.name + "\" is not a field name");
    if (!id.paramName.empty()) return invalid("the name parameter applies only to \"@query-param\"");
    return fieldValue(*context, id);
  }
  if (!id.key.empty() || id.sf) return invalid("key and sf apply only to fields, not \"" + id.name + "\"");
  if (id.name == "@query-param" && id.paramName.empty()) return invalid("\"@query-param\" needs a name parameter");
  if (id.name != "@query-param" && !id.paramName.empty()) return invalid("the name parameter applies only to \"@query-param\"");
  auto value = derivedValue(*context, id);
  if (value && !isDerivedValue(*value)) return invalid("the value of \"" + id.name + "\" is not printable ASCII");
  return value;
}

Result<ComponentId> componentFromItem(const sf::Item& item) {
  if (item.value.kind != sf::BareItem::Kind::kString) return invalid("a covered component is not a string");
  ComponentId id;
  id.name = item.value.text;
  if (id.name.empty()) return invalid("an empty component name");
  if (id.name == "@signature-params") return invalid("\"@signature-params\" is listed as a covered component");
  if (id.name[0] != '@' && !isFieldComponentName(id.name)) {
    return invalid("the component \"" + id.name + "\" is not a lower-case field name");
  }
  for (const auto& [key, value] : item.params) {
    const bool isTrue = value.kind == sf::BareItem::Kind::kBoolean && value.boolean;
    if (key == "req" || key == "sf") {
      if (!isTrue) return invalid("the component parameter " + key + " must be a true boolean");
      (key == "req" ? id.req : id.sf) = true;
    } else if (key == "key" || key == "name") {
      if (value.kind != sf::BareItem::Kind::kString || value.text.empty()) {
        return invalid("the component parameter " + key + " must be a non-empty string");
      }
      (key == "key" ? id.key : id.paramName) = value.text;
    } else if (key == "bs" || key == "tr") {
      return invalid("the component parameter " + key + " is not supported");
    } else {
      return invalid("unknown component parameter \"" + key + "\"");
    }
    id.order.push_back(key);
  }
  if (id.name[0] == '@' && (id.sf || !id.key.empty())) return invalid("key and sf apply only to fields");
  if (!id.paramName.empty() && id.name != "@query-param") return invalid("name applies only to \"@query-param\"");
  return id;
}

Result<SignatureParams> paramsFromInnerList(const sf::InnerList& list) {
  if (list.items.size() > kMaxComponents) return invalid("more than 64 covered components");
  SignatureParams params;
  for (const auto& item : list.items) {
    auto id = componentFromItem(item);
    if (!id) return tl::make_unexpected(id.error());
    params.components.push_back(std::move(*id));
  }
  for (const auto& [key, value] : list.params) {
    if (key == "created" || key == "expires") {
      if (value.kind != sf::BareItem::Kind::kInteger) return invalid("the parameter " + key + " must be an integer");
      (key == "created" ? params.created : params.expires) = value.integer;
    } else if (key == "nonce" || key == "alg" || key == "keyid" || key == "tag") {
      if (value.kind != sf::BareItem::Kind::kString) return invalid("the parameter " + key + " must be a string");
      auto& slot = key == "nonce" ? params.nonce : key == "alg" ? params.alg : key == "keyid" ? params.keyid : params.tag;
      slot = value.text;
    } else {
      return invalid("unknown signature parameter \"" + key + "\"");
    }
    params.order.push_back(key);
  }
  return params;
}

// The names in `order` that are set, then the set ones it does not list, in `defaults` order.
template <class IsSet>
std::vector<std::string> emitOrder(const std::vector<std::string>& order, const std::vector<std::string>& defaults,
                                   IsSet isSet) {
  std::vector<std::string> out;
  for (const auto& name : order) {
    if (isSet(name) && std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  for (const auto& name : defaults) {
    if (isSet(name) && std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  return out;
}

std::string digestOf(const std::string& body, const EVP_MD* md) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(body.data(), body.size(), out, &length, md, nullptr) != 1) return "";
  return std::string(reinterpret_cast<const char*>(out), length);
}

}  // namespace

std::string ComponentId::serialize() const {
  std::string out = serializeName(name);
  const auto names = emitOrder(order, {"req", "key", "name", "sf"}, [this](const std::string& p) {
    return (p == "req" && req) || (p == "key" && !key.empty()) || (p == "name" && !paramName.empty()) ||
           (p == "sf" && sf);
  });
  for (const auto& p : names) {
    if (p == "req" || p == "sf") out += ";" + p;
    if (p == "key") out += ";key=" + serializeName(key);
    if (p == "name") out += ";name=" + serializeName(paramName);
  }
  return out;
}

bool ComponentId::operator==(const ComponentId& other) const {
  return name == other.name && req == other.req && key == other.key && paramName == other.paramName &&
         sf == other.sf;
}

std::string SignatureParams::serialize() const {
  std::string out = "(";
  for (std::size_t i = 0; i < components.size(); ++i) out += (i > 0 ? " " : "") + components[i].serialize();
  out += ")";
  const auto names = emitOrder(order, {"created", "expires", "nonce", "alg", "keyid", "tag"}, [this](const std::string& p) {
    return (p == "created" && created) || (p == "expires" && expires) || (p == "nonce" && nonce) ||
           (p == "alg" && alg) || (p == "keyid" && keyid) || (p == "tag" && tag);
  });
  for (const auto& p : names) {
    if (p == "created") out += ";created=" + std::to_string(*created);
    if (p == "expires") out += ";expires=" + std::to_string(*expires);
    if (p == "nonce") out += ";nonce=" + serializeName(*nonce);
    if (p == "alg") out += ";alg=" + serializeName(*alg);
    if (p == "keyid") out += ";keyid=" + serializeName(*keyid);
    if (p == "tag") out += ";tag=" + serializeName(*tag);
  }
  return out;
}

bool SignatureParams::covers(const std::string& componentName) const {
  return std::any_of(components.begin(), components.end(),
                     [&](const ComponentId& c) { return c.name == componentName && !c.req && c.key.empty(); });
}

std::string MessageSignature::signatureField() const { return ":" + base64Encode(signature) + ":"; }

Result<std::vector<MessageSignature>> parseSignatures(const std::string& signatureInput, const std::string& signature) {
  // Before any parsing: what the parser does is linear, but a peer need not be given even that
  // on ~800 KB of header fields (docs/api.md, limits).
  if (signatureInput.size() > kMaxSignatureFieldBytes) return invalid("Signature-Input is longer than 8192 bytes");
  if (signature.size() > kMaxSignatureFieldBytes) return invalid("Signature is longer than 8192 bytes");
  auto inputs = sf::parseDictionary(signatureInput, sf::Duplicates::kRefuse);
  if (!inputs) return invalid("Signature-Input: " + inputs.error().external);
  auto values = sf::parseDictionary(signature, sf::Duplicates::kRefuse);
  if (!values) return invalid("Signature: " + values.error().external);
  if (inputs->size() > kMaxSignatures || values->size() > kMaxSignatures) return invalid("more than 16 signatures");
  for (const auto& entry : *values) {
    auto in = std::find_if(inputs->begin(), inputs->end(), [&](const auto& m) { return m.first == entry.first; });
    if (in == inputs->end()) return invalid("the signature \"" + entry.first + "\" has no Signature-Input");
  }
  std::vector<MessageSignature> out;
  for (const auto& entry : *inputs) {
    const std::string& label = entry.first;
    const sf::Member& member = entry.second;
    auto value = std::find_if(values->begin(), values->end(), [&](const auto& m) { return m.first == label; });
    if (value == values->end()) return invalid("the Signature-Input \"" + label + "\" has no Signature");
    if (!member.isInnerList) return invalid("the Signature-Input \"" + label + "\" is not an inner list");
    const sf::Member& sig = value->second;
    if (sig.isInnerList || sig.item.value.kind != sf::BareItem::Kind::kByteSequence) {
      return invalid("the Signature \"" + label + "\" is not a byte sequence");
    }
    if (sig.item.value.text.empty() || sig.item.value.text.size() > kMaxSignatureBytes) {
      return invalid("the Signature \"" + label + "\" has an implausible length");
    }
    auto params = paramsFromInnerList(member.inner);
    if (!params) return invalid("Signature-Input \"" + label + "\": " + params.error().external);
    out.push_back(MessageSignature{label, std::move(*params), sig.item.value.text});
  }
  return out;
}

Result<std::string> signatureBase(const HttpMessage& message, const HttpMessage* request, const SignatureParams& params) {
  if (params.components.size() > kMaxComponents) return invalid("more than 64 covered components");
  std::string base;
  for (std::size_t i = 0; i < params.components.size(); ++i) {
    const ComponentId& id = params.components[i];
    if (id.name == "@signature-params") return invalid("\"@signature-params\" is listed as a covered component");
    for (std::size_t j = 0; j < i; ++j) {
      if (params.components[j] == id) return invalid("the component " + id.serialize() + " is covered twice");
    }
    auto value = componentValue(message, request, id);
    if (!value) return tl::make_unexpected(value.error());
    base += id.serialize() + ": " + *value + "\n";
    if (base.size() > kMaxBase) return invalid("the signature base is longer than 8192 bytes");
  }
  base += "\"@signature-params\": " + params.serialize();
  if (base.size() > kMaxBase) return invalid("the signature base is longer than 8192 bytes");
  if (!std::all_of(base.begin(), base.end(), [](char c) { return (c >= 0x20 && c <= 0x7e) || c == '\n' || c == '\t'; })) {
    return invalid("the signature base holds a character outside ASCII");
  }
  return base;
}

std::string signatureInputField(const std::string& label, const SignatureParams& params) {
  return label + "=" + params.serialize();
}

std::string signatureField(const std::string& label, const std::string& rawSignature) {
  return label + "=:" + base64Encode(rawSignature) + ":";
}

std::string contentDigestField(const std::string& body) {
  return "sha-256=:" + base64Encode(digestOf(body, EVP_sha256())) + ":";
}

DigestCheck checkContentDigest(const std::string& field, const std::string& body) {
  if (field.size() > kMaxSignatureFieldBytes) return DigestCheck::kMalformed;
  auto dict = sf::parseDictionary(field);
  if (!dict) return DigestCheck::kMalformed;
  bool known = false;
  for (const auto& [algorithm, member] : *dict) {  // keys are unique: each algorithm hashes the body once
    const EVP_MD* md = algorithm == "sha-256" ? EVP_sha256() : algorithm == "sha-512" ? EVP_sha512() : nullptr;
    if (md == nullptr) continue;
    if (member.isInnerList || member.item.value.kind != sf::BareItem::Kind::kByteSequence) return DigestCheck::kMalformed;
    known = true;
    if (member.item.value.text != digestOf(body, md)) return DigestCheck::kMismatch;
  }
  return known ? DigestCheck::kMatches : DigestCheck::kNoKnownAlgorithm;
}

}  // namespace hie::auth

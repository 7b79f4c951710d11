#include "auth/udap/jose_json.h"

#include <set>
#include <vector>

#include <Poco/Dynamic/Var.h>
#include <Poco/Exception.h>
#include <Poco/JSON/JSONException.h>
#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>

#include "common/utf8.h"

namespace hie::auth::udap {

namespace {

// Poco's handler keeps the last of two equal keys; this one notices the second and stops the parse.
class DuplicateKeyHandler : public Poco::JSON::ParseHandler {
 public:
  void reset() override {
    Poco::JSON::ParseHandler::reset();
    frames_.clear();
    duplicate_ = false;
  }
  void startObject() override {
    frames_.push_back(Frame{true, {}});
    Poco::JSON::ParseHandler::startObject();
  }
  void endObject() override {
    if (!frames_.empty()) frames_.pop_back();
    Poco::JSON::ParseHandler::endObject();
  }
  void startArray() override {
    frames_.push_back(Frame{false, {}});
    Poco::JSON::ParseHandler::startArray();
  }
  void endArray() override {
    if (!frames_.empty()) frames_.pop_back();
    Poco::JSON::ParseHandler::endArray();
  }
  void key(const std::string& k) override {
    if (!frames_.empty() && frames_.back().object && !frames_.back().keys.insert(k).second) {
      duplicate_ = true;
      throw Poco::JSON::JSONException("duplicate key");
    }
    Poco::JSON::ParseHandler::key(k);
  }
  bool duplicate() const { return duplicate_; }

 private:
  struct Frame {
    bool object;
    std::set<std::string> keys;
  };
  std::vector<Frame> frames_;
  bool duplicate_ = false;
};

}  // namespace

tl::expected<Poco::JSON::Object::Ptr, JsonDefect> parseJsonObject(const std::string& text) {
  if (text.find('\0') != std::string::npos || !isValidUtf8(text)) return tl::make_unexpected(JsonDefect::kSyntax);
  Poco::SharedPtr<DuplicateKeyHandler> handler = new DuplicateKeyHandler;
  Poco::JSON::Parser parser(handler);
  parser.setDepth(kMaxJsonDepth);
  Poco::Dynamic::Var value;
  try {
    value = parser.parse(text);
  } catch (const Poco::Exception&) {
    return tl::make_unexpected(handler->duplicate() ? JsonDefect::kDuplicateKey : JsonDefect::kSyntax);
  } catch (const std::exception&) {
    return tl::make_unexpected(JsonDefect::kSyntax);
  }
  if (value.type() != typeid(Poco::JSON::Object::Ptr)) return tl::make_unexpected(JsonDefect::kNotObject);
  Poco::JSON::Object::Ptr object = value.extract<Poco::JSON::Object::Ptr>();
  if (object.isNull()) return tl::make_unexpected(JsonDefect::kNotObject);
  return object;
}

std::optional<std::int64_t> jsonInteger(const Poco::JSON::Object& object, const std::string& name) {
  if (!object.has(name)) return std::nullopt;
  const Poco::Dynamic::Var& v = object.get(name);
  const std::type_info& t = v.type();
  if (t == typeid(int)) return static_cast<std::int64_t>(v.extract<int>());
  if (t == typeid(unsigned)) return static_cast<std::int64_t>(v.extract<unsigned>());
  if (t == typeid(Poco::Int64)) return static_cast<std::int64_t>(v.extract<Poco::Int64>());
  if (t == typeid(long)) return static_cast<std::int64_t>(v.extract<long>());
  if (t == typeid(long long)) return static_cast<std::int64_t>(v.extract<long long>());
  return std::nullopt;  // UInt64 past INT64_MAX, double, string, bool, null, object, array
}

std::optional<std::string> jsonString(const Poco::JSON::Object& object, const std::string& name) {
  if (!object.has(name)) return std::nullopt;
  const Poco::Dynamic::Var& v = object.get(name);
  if (v.type() != typeid(std::string)) return std::nullopt;
  return v.extract<std::string>();
}

}  // namespace hie::auth::udap

#include "common/poco_json.h"

#include <cmath>
#include <cstdlib>

#include <Poco/JSON/Array.h>

namespace hie {
namespace {

void writeObject(JsonWriter& out, const Poco::JSON::Object& object) {
  out.beginObject();
  for (const auto& [name, member] : object) {
    out.key(name);
    writePocoJson(out, member);
  }
  out.endObject();
}

void writeArray(JsonWriter& out, const Poco::JSON::Array& array) {
  out.beginArray();
  for (const auto& element : array) writePocoJson(out, element);
  out.endArray();
}

}  // namespace

void writePocoJson(JsonWriter& out, const Poco::Dynamic::Var& value) {
  if (value.isEmpty()) {
    out.null();
  } else if (value.type() == typeid(Poco::JSON::Object::Ptr)) {
    const auto& object = value.extract<Poco::JSON::Object::Ptr>();
    if (object.isNull()) out.null();
    else writeObject(out, *object);
  } else if (value.type() == typeid(Poco::JSON::Object)) {
    writeObject(out, value.extract<Poco::JSON::Object>());
  } else if (value.type() == typeid(Poco::JSON::Array::Ptr)) {
    const auto& array = value.extract<Poco::JSON::Array::Ptr>();
    if (array.isNull()) out.null();
    else writeArray(out, *array);
  } else if (value.type() == typeid(Poco::JSON::Array)) {
    writeArray(out, value.extract<Poco::JSON::Array>());
  } else if (value.isBoolean()) {
    out.value(value.extract<bool>());
  } else if (value.isString()) {
    out.value(value.convert<std::string>());
  } else if (value.isNumeric()) {
    // Poco's own text for the number (what its stringify wrote). JSON has no NaN or
    // infinity (the parser refuses them; code could set them): those become null.
    if (!value.isInteger() && !std::isfinite(value.convert<double>())) out.null();
    else out.numberText(value.convert<std::string>());
  } else {
    // Any other type (a char, a date, a struct) is a programming error in the code that built it.
    std::abort();
  }
}

std::string pocoJsonText(const Poco::Dynamic::Var& value) {
  JsonWriter out;
  writePocoJson(out, value);
  return out.take();
}

std::string pocoJsonText(const Poco::JSON::Object& object) {
  JsonWriter out;
  writeObject(out, object);
  return out.take();
}

}  // namespace hie

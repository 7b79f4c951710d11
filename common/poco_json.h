// Adapter: JSON documents held as Poco::JSON values (parsed from a peer or a
// bundle, or built in code) written through JsonWriter, so every JSON text the
// node emits is escaped one way (common/json_writer.h). Objects keep Poco's key
// order (sorted by name); numbers keep the text Poco gives them.
#pragma once

#include <string>

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Object.h>

#include "common/json_writer.h"

namespace hie {

void writePocoJson(JsonWriter& out, const Poco::Dynamic::Var& value);
// The whole document as text.
std::string pocoJsonText(const Poco::Dynamic::Var& value);
std::string pocoJsonText(const Poco::JSON::Object& object);

}  // namespace hie

#include "db/sql_array.h"

namespace hie::db {
namespace {

template <class Items>
std::string literalOf(const Items& items) {
  std::string out = "{";
  bool first = true;
  for (const auto& item : items) {
    if (!first) out += ",";
    first = false;
    out += "\"";
    for (char c : item) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += "\"";
  }
  return out + "}";
}

}  // namespace

std::string textArrayLiteral(const std::vector<std::string>& items) { return literalOf(items); }
std::string textArrayLiteral(const std::set<std::string>& items) { return literalOf(items); }

}  // namespace hie::db

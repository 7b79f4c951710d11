#include "db/connection.h"

#include <regex>

#include <pqxx/except>

namespace hie::db {

std::string redactUri(const std::string& uri) {
  static const std::regex kUserInfoPassword(R"(^([a-z]+://[^:/@?]*):[^@/?]*@)");
  static const std::regex kQueryPassword(R"(([?&]password=)[^&]*)");
  std::string out = std::regex_replace(uri, kUserInfoPassword, "$1:***@");
  return std::regex_replace(out, kQueryPassword, "$1***");
}

Result<std::unique_ptr<pqxx::connection>> connect(const std::string& uri) {
  try {
    return std::make_unique<pqxx::connection>(uri);
  } catch (const std::exception& e) {
    std::string why = e.what();
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return fail(ErrorCode::kUnavailable, "cannot connect to PostgreSQL at " + redactUri(uri) + ": " + why,
                "database unavailable");
  }
}

}  // namespace hie::db

#include "db/connection.h"

#include <regex>
#include <utility>

#include <pqxx/except>

namespace hie::db {

std::string redactUri(const std::string& uri) {
  static const std::regex kUserInfoPassword(R"(^([a-z]+://[^:/@?]*):[^@/?]*@)");
  static const std::regex kQueryPassword(R"(([?&]password=)[^&]*)");
  std::string out = std::regex_replace(uri, kUserInfoPassword, "$1:***@");
  return std::regex_replace(out, kQueryPassword, "$1***");
}

std::string withNetworkTimeouts(const std::string& uri) {
  // Without these a connection to a server that vanished from the network (no reset, no
  // answer) waits for the kernel's TCP timeouts, minutes, and a statement_timeout does not
  // help: the server is not there to apply it. Unix sockets ignore them.
  static const std::pair<const char*, const char*> kDefaults[] = {
      {"connect_timeout", "5"},   {"keepalives", "1"},        {"keepalives_idle", "10"},
      {"keepalives_interval", "5"}, {"keepalives_count", "3"}, {"tcp_user_timeout", "15000"},
  };
  const bool isUri = uri.rfind("postgresql://", 0) == 0 || uri.rfind("postgres://", 0) == 0;
  std::string out = uri;
  for (const auto& [key, value] : kDefaults) {
    if (uri.find(std::string(key) + "=") != std::string::npos) continue;  // the operator's own value wins
    if (isUri) {
      out += (out.find('?') == std::string::npos ? "?" : "&") + std::string(key) + "=" + value;
    } else {
      out += std::string(out.empty() ? "" : " ") + key + "=" + value;
    }
  }
  return out;
}

Result<std::unique_ptr<pqxx::connection>> connect(const std::string& uri) {
  try {
    auto conn = std::make_unique<pqxx::connection>(withNetworkTimeouts(uri));
    // Dates without an offset (audit --from/--to, the auditor API's date=) are UTC, whatever
    // the server's default TimeZone is; pqxx repeats this after a reconnect.
    conn->set_variable("TimeZone", "'UTC'");
    return conn;
  } catch (const std::exception& e) {
    std::string why = e.what();
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return fail(ErrorCode::kUnavailable, "cannot connect to PostgreSQL at " + redactUri(uri) + ": " + why,
                "database unavailable");
  }
}

}  // namespace hie::db

// One PostgreSQL connection for a single-threaded user (a repository, the
// audit writer): opened lazily, reopened after it breaks; libpqxx exceptions
// become Errors here and go no further.
#pragma once

#include <memory>
#include <string>

#include <pqxx/pqxx>

#include "common/result.h"
#include "db/connection.h"

namespace hie::db {

class Session {
 public:
  explicit Session(std::string uri) : uri_(std::move(uri)) {}

  // Runs body(connection); `what` prefixes internal messages.
  template <class F>
  auto run(const char* what, F&& body) -> decltype(body(std::declval<pqxx::connection&>())) {
    auto conn = connection();
    if (!conn) return tl::make_unexpected(conn.error());
    try {
      return body(**conn);
    } catch (const pqxx::broken_connection& e) {
      conn_.reset();
      return fail(ErrorCode::kUnavailable, std::string(what) + ": lost the database connection: " + e.what(),
                  "database unavailable");
    } catch (const pqxx::undefined_table& e) {
      return fail(ErrorCode::kUnavailable, std::string(what) + ": " + e.what(),
                  "the database has no hie-node schema; run `hie-node migrate` first");
    } catch (const std::exception& e) {
      if (conn_ && !conn_->is_open()) conn_.reset();
      return fail(ErrorCode::kInternal, std::string(what) + ": " + e.what(), "internal database error");
    }
  }

 private:
  Result<pqxx::connection*> connection() {
    if (conn_ && conn_->is_open()) return conn_.get();
    auto fresh = connect(uri_);
    if (!fresh) return tl::make_unexpected(fresh.error());
    conn_ = std::move(*fresh);
    return conn_.get();
  }

  std::string uri_;
  std::unique_ptr<pqxx::connection> conn_;
};

}  // namespace hie::db

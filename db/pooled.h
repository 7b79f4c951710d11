// Runs a body on a connection leased from a pool: libpqxx exceptions become
// Errors here (a lost connection is kUnavailable and the lease is discarded,
// also when a commit was in doubt: the caller then answers 503), nothing else
// escapes.
#pragma once

#include <exception>
#include <string>
#include <utility>

#include <pqxx/pqxx>

#include "common/result.h"
#include "db/connection_pool.h"

namespace hie::db {

template <class F>
auto withConnection(ConnectionPool& pool, const char* what, F&& body)
    -> decltype(body(std::declval<pqxx::connection&>())) {
  auto lease = pool.acquire();
  if (!lease) return tl::make_unexpected(lease.error());
  try {
    return body(**lease);
  } catch (const pqxx::broken_connection& e) {
    lease->discard();
    return fail(ErrorCode::kUnavailable, std::string(what) + ": lost the database connection: " + e.what(),
                "The service is temporarily unavailable.");
  } catch (const std::exception& e) {
    if (!(*lease)->is_open()) lease->discard();
    return fail(ErrorCode::kInternal, std::string(what) + ": " + e.what(), "Internal error.");
  }
}

}  // namespace hie::db

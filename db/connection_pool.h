// A small pool of PostgreSQL connections for request threads (a pqxx
// connection is not thread-safe). Connections open lazily and a broken one is
// dropped and reopened on a later lease.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <pqxx/connection>

#include "common/result.h"

namespace hie::db {

class ConnectionPool {
 public:
  ConnectionPool(std::string uri, int size);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Exclusive use of one connection until destroyed; discard() after a
  // connection error so it is not handed out again.
  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<pqxx::connection> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept : pool_(other.pool_), conn_(std::move(other.conn_)) { other.pool_ = nullptr; }
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    pqxx::connection& operator*() { return *conn_; }
    pqxx::connection* operator->() { return conn_.get(); }
    void discard() { conn_.reset(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<pqxx::connection> conn_;
  };

  // kUnavailable when no connection frees up within `wait` or the server cannot be reached.
  Result<Lease> acquire(std::chrono::milliseconds wait = std::chrono::milliseconds(2000));

 private:
  void giveBack(std::unique_ptr<pqxx::connection> conn);

  std::string uri_;
  int size_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  int leased_ = 0;
};

}  // namespace hie::db

#include "db/connection_pool.h"

#include "db/connection.h"

namespace hie::db {

ConnectionPool::ConnectionPool(std::string uri, int size) : uri_(std::move(uri)), size_(size < 1 ? 1 : size) {}

ConnectionPool::~ConnectionPool() = default;

ConnectionPool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->giveBack(std::move(conn_));
}

void ConnectionPool::giveBack(std::unique_ptr<pqxx::connection> conn) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    --leased_;
    if (conn && conn->is_open()) idle_.push_back(std::move(conn));
  }
  freed_.notify_one();
}

Result<ConnectionPool::Lease> ConnectionPool::acquire(std::chrono::milliseconds wait) {
  std::unique_ptr<pqxx::connection> conn;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!freed_.wait_for(lock, wait, [this] { return !idle_.empty() || leased_ < size_; })) {
      return fail(ErrorCode::kUnavailable, "no database connection free within " + std::to_string(wait.count()) + " ms",
                  "service busy");
    }
    ++leased_;
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!conn) {
    auto fresh = connect(uri_);
    if (!fresh) {
      giveBack(nullptr);
      return tl::make_unexpected(fresh.error());
    }
    conn = std::move(*fresh);
  }
  return Lease(this, std::move(conn));
}

}  // namespace hie::db

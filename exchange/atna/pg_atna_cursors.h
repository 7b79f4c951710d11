// The ATNA feed's cursors and committed leaves in PostgreSQL (db/migrations/0008_atna_feed.sql).
// Owns one connection, reopened after it breaks. Not thread-safe: the feed's thread only.
#pragma once

#include <memory>
#include <string>

#include "exchange/atna/atna_feed.h"

namespace hie::db {
class Session;
}

namespace hie::exchange {

class PgAtnaCursors : public AtnaCursorStore {
 public:
  explicit PgAtnaCursors(std::string dbUri);
  ~PgAtnaCursors() override;

  Result<std::vector<std::string>> origins() override;
  // One transaction: the cursor row FOR UPDATE SKIP LOCKED (held = false when another session holds
  // it), the leaves below the newest checkpoint's size, deliver, the cursor moved, commit.
  Result<Batch> sendNext(const std::string& repository, const std::string& origin, std::size_t limit,
                         const std::function<std::size_t(const std::vector<FeedLeaf>&)>& deliver) override;
  Result<std::uint64_t> backlog(const std::string& repository) override;
  // The stored cursor (0 when none): for tests and operators.
  Result<std::uint64_t> cursor(const std::string& repository, const std::string& origin);

 private:
  std::unique_ptr<db::Session> session_;
};

}  // namespace hie::exchange

// A fresh database on the throwaway PostgreSQL that scripts/test starts
// (HIE_TEST_PG_HOST / HIE_TEST_PG_PORT). Dropped by the destructor. Without
// that cluster, construction throws: integration tests never skip.
#pragma once

#include <string>

namespace hie::testing {

class TestDatabase {
 public:
  TestDatabase();
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const std::string& uri() const { return uri_; }
  const std::string& name() const { return name_; }
  // Runs SQL as the superuser in this database; throws on error.
  void exec(const std::string& sql) const;

 private:
  std::string name_;
  std::string uri_;
};

// URI for database `name` on the test cluster.
std::string testClusterUri(const std::string& name);

}  // namespace hie::testing

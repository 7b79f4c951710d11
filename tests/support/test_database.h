// A fresh database on the throwaway PostgreSQL that scripts/test starts
// (HIE_TEST_PG_HOST / HIE_TEST_PG_PORT). Dropped by the destructor. Without
// that cluster, construction throws: integration tests never skip.
#pragma once

#include <string>

namespace hie::testing {

class TestDatabase {
 public:
  TestDatabase();
  // On another cluster (unix socket directory and port).
  TestDatabase(std::string host, std::string port);
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  // The runtime role (hie_app, member of hie_runtime): what the node connects as.
  const std::string& uri() const { return uri_; }
  // The schema owner (hie_owner): what `migrate` connects as.
  const std::string& ownerUri() const { return ownerUri_; }
  const std::string& name() const { return name_; }
  // Runs SQL as the superuser in this database (tampering, setup); throws on error.
  void exec(const std::string& sql) const;

 private:
  std::string uriFor(const std::string& db, const std::string& user) const;
  void create();

  std::string host_;
  std::string port_;
  std::string name_;
  std::string uri_;
  std::string ownerUri_;
};

// URI for database `name` on the test cluster, as `user` (default: the superuser).
std::string testClusterUri(const std::string& name, const std::string& user = "postgres");

}  // namespace hie::testing

// PgUdapClientStore and PgJtiRegistry on a real database: processes (here: pools) that register
// the same SAN URI at the same time make one active client; a jti is refused while remembered and
// usable again once its time is past.
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>

#include <pqxx/pqxx>

#include "db/connection_pool.h"
#include "exchange/http/pg_udap_store.h"
#include "tests/support/node_fixture.h"

namespace hie::testing {
namespace {

const std::string kClinic = "urn:oid:2.16.840.1.113883.3.7001";

exchange::UdapRegistration registration(const std::string& name) {
  return exchange::UdapRegistration{kClinic, kClinic, name, {"mailto:it@example.org"}, "system/*.read", "a.b.c",
                                    std::string(64, 'a')};
}

// A client_id is 22 base64url characters and never begins with '-' (it is passed on command lines:
// `hie-node udap clients cancel ID`). One in 64 base64url texts begins with '-': 4096 draws would
// meet about 64 of them without the redraw.
TEST(UdapStore, ClientIdsAre22Base64urlCharactersNeverBeginningWithADash) {
  std::set<std::string> seen;
  for (int i = 0; i < 4096; ++i) {
    const std::string id = exchange::newUdapClientId();
    ASSERT_EQ(id.size(), 22u) << id;
    ASSERT_EQ(id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), std::string::npos) << id;
    ASSERT_NE(id.front(), '-') << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 4096u) << "128 random bits do not repeat";
}

TEST(UdapStore, ConcurrentRegistrationsOfOneSanMakeOneActiveClient) {
  NodeFixture f;
  f.migrate();
  f.addOrg(kClinic, "Lakeside Clinic");
  db::ConnectionPool one(f.db.uri(), 4), two(f.db.uri(), 4);
  exchange::PgUdapClientStore a(one), b(two);
  std::mutex mutex;
  std::set<std::string> ids;
  int created = 0, failed = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto r = (i % 2 == 0 ? a : b).registerClient(registration("app " + std::to_string(i)));
      std::lock_guard<std::mutex> lock(mutex);
      if (!r) {
        ++failed;
        ADD_FAILURE() << r.error().internal;
        return;
      }
      ids.insert(r->clientId);
      created += r->created ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(created, 1);
  pqxx::connection c(f.db.uri());
  pqxx::read_transaction tx(c);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM udap_clients WHERE status = 'active'")[0].as<int>(), 1);
  tx.commit();
  // Cancelled, then registered again: a new client_id.
  auto cancelled = a.cancelBySan(kClinic);
  ASSERT_TRUE(cancelled && *cancelled);
  EXPECT_EQ(**cancelled, *ids.begin());
  auto again = b.registerClient(registration("app again"));
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->created);
  EXPECT_NE(again->clientId, *ids.begin());
  auto found = a.find(again->clientId);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->organization, kClinic);
  EXPECT_EQ((*found)->contacts, std::vector<std::string>{"mailto:it@example.org"});
  EXPECT_TRUE((*found)->active);
  auto listed = b.list();
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->size(), 2u);
}

TEST(UdapStore, AJtiIsRefusedWhileRememberedAndUsableAfter) {
  NodeFixture f;
  f.migrate();
  db::ConnectionPool pool(f.db.uri(), 2), other(f.db.uri(), 2);
  exchange::PgJtiRegistry jtis(pool), elsewhere(other);
  const std::int64_t now = std::time(nullptr);
  EXPECT_TRUE(*jtis.remember("client-1", "j1", now + 360, now));
  EXPECT_FALSE(*elsewhere.remember("client-1", "j1", now + 360, now));  // another process sees it
  EXPECT_TRUE(*jtis.remember("client-2", "j1", now + 360, now));         // per issuer
  // Past its time (the JWT carrying it has expired): may be used again.
  EXPECT_TRUE(*jtis.remember("client-1", "j1", now + 1000, now + 400));
  EXPECT_FALSE(*jtis.remember("client-1", "j1", now + 1000, now + 400));
}

TEST(UdapStore, AJtiIsRememberedThroughItsRememberUntilSecond) {
  // The boundary: at now == rememberUntil the jti is still a replay; it is freed only after.
  NodeFixture f;
  f.migrate();
  db::ConnectionPool pool(f.db.uri(), 2);
  exchange::PgJtiRegistry jtis(pool);
  const std::int64_t now = std::time(nullptr);
  const std::int64_t until = now + 360;
  EXPECT_TRUE(*jtis.remember("client-1", "edge", until, now));
  EXPECT_FALSE(*jtis.remember("client-1", "edge", until + 500, until - 1));
  EXPECT_FALSE(*jtis.remember("client-1", "edge", until + 500, until));
  EXPECT_TRUE(*jtis.remember("client-1", "edge", until + 500, until + 1));
}

}  // namespace
}  // namespace hie::testing

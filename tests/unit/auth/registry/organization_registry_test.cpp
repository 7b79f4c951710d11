#include "auth/registry/organization_registry.h"

#include <mutex>
#include <thread>

#include <gtest/gtest.h>

namespace hie::auth {
namespace {

// A hand-written source: generation and rows set by the test.
class FakeSource : public OrganizationSource {
 public:
  struct State {
    std::int64_t generation = 1;
    std::vector<Organization> rows;
    bool down = false;
    int loads = 0;
    std::mutex mutex;  // the registry's polling thread reads while the test writes
  };
  explicit FakeSource(State& s) : s_(s) {}
  Result<std::int64_t> generation() override {
    std::lock_guard<std::mutex> lock(s_.mutex);
    if (s_.down) return fail(ErrorCode::kUnavailable, "down");
    return s_.generation;
  }
  Result<RegistrySnapshot> loadAll() override {
    std::lock_guard<std::mutex> lock(s_.mutex);
    if (s_.down) return fail(ErrorCode::kUnavailable, "down");
    ++s_.loads;
    RegistrySnapshot snap;
    snap.organizations = s_.rows;
    return snap;
  }

 private:
  State& s_;
};

Organization org(const std::string& id) { return Organization{id, id, OrganizationStatus::kActive, {}, {}, {}}; }

TEST(OrganizationRegistry, ReloadsOnlyWhenTheGenerationMoves) {
  FakeSource::State state;
  state.rows = {org("urn:oid:1.1")};
  OrganizationRegistry registry(std::make_unique<FakeSource>(state), std::chrono::hours(1));
  ASSERT_TRUE(registry.refresh());
  EXPECT_EQ(registry.snapshot()->organizations.size(), 1u);
  EXPECT_EQ(state.loads, 1);
  auto unchanged = registry.refresh();
  ASSERT_TRUE(unchanged);
  EXPECT_FALSE(*unchanged);
  EXPECT_EQ(state.loads, 1);
  state.rows.push_back(org("urn:oid:1.2"));
  state.generation = 2;
  auto changed = registry.refresh();
  ASSERT_TRUE(changed);
  EXPECT_TRUE(*changed);
  EXPECT_EQ(registry.snapshot()->organizations.size(), 2u);
}

TEST(OrganizationRegistry, KeepsTheLastSnapshotWhileTheSourceIsDown) {
  FakeSource::State state;
  state.rows = {org("urn:oid:1.1")};
  OrganizationRegistry registry(std::make_unique<FakeSource>(state), std::chrono::hours(1));
  ASSERT_TRUE(registry.refresh());
  auto held = registry.snapshot();
  state.down = true;
  EXPECT_FALSE(registry.refresh());
  EXPECT_EQ(registry.snapshot(), held);
}

TEST(OrganizationRegistry, StartFailsWhenTheFirstLoadFails) {
  FakeSource::State state;
  state.down = true;
  OrganizationRegistry registry(std::make_unique<FakeSource>(state), std::chrono::milliseconds(10));
  EXPECT_FALSE(registry.start());
}

TEST(OrganizationRegistry, BackgroundPollingPicksUpChanges) {
  FakeSource::State state;
  OrganizationRegistry registry(std::make_unique<FakeSource>(state), std::chrono::milliseconds(10));
  ASSERT_TRUE(registry.start());
  EXPECT_TRUE(registry.snapshot()->organizations.empty());
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    state.rows = {org("urn:oid:1.1")};
    state.generation = 2;
  }
  bool seen = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!seen && std::chrono::steady_clock::now() < deadline) {
    seen = registry.snapshot()->organizations.size() == 1;
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  registry.stop();
  EXPECT_TRUE(seen);
}

}  // namespace
}  // namespace hie::auth

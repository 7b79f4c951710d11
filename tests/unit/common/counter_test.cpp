// Typed counters: families declared once, label values at the call site,
// safe from many threads at once; the node's families match the docs.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "common/counters.h"

namespace hie {
namespace {

struct SmallRegistry : CounterRegistry {
  Counter hits{*this, "t_hits_total", "Hits."};
  LabeledCounter<1> byReason{*this, "t_by_reason_total", "By reason.", {"reason"}};
  LabeledCounter<2> byStage{*this, "t_by_stage_total", "By stage and reason.", {"stage", "reason"}};
};

TEST(Counters, FamiliesKeepTheirDeclarationOrderNamesAndLabels) {
  SmallRegistry r;
  ASSERT_EQ(r.families().size(), 3u);
  EXPECT_EQ(r.families()[0]->info().name, "t_hits_total");
  EXPECT_TRUE(r.families()[0]->info().labelNames.empty());
  EXPECT_EQ(r.families()[1]->info().labelNames, std::vector<std::string>{"reason"});
  EXPECT_EQ(r.families()[2]->info().labelNames, (std::vector<std::string>{"stage", "reason"}));
  EXPECT_EQ(r.families()[2]->info().help, "By stage and reason.");
}

TEST(Counters, ASeriesExistsFromItsFirstIncrementAndCountsWhatItIsGiven) {
  SmallRegistry r;
  EXPECT_TRUE(r.hits.series().empty());
  EXPECT_EQ(r.hits.value(), 0u);
  r.hits.inc(0);
  ASSERT_EQ(r.hits.series().size(), 1u);
  EXPECT_EQ(r.hits.series()[0].value, 0u);
  r.hits.inc();
  r.hits.inc(41);
  EXPECT_EQ(r.hits.value(), 42u);

  EXPECT_EQ(r.byStage.value({"identity", "unknown_organization"}), 0u);
  EXPECT_TRUE(r.byStage.series().empty());
  r.byStage.inc({"request", "no_grant"}, 3);
  r.byStage.inc({"identity", "unknown_organization"});
  EXPECT_EQ(r.byStage.value({"request", "no_grant"}), 3u);
  EXPECT_EQ(r.byStage.value({"identity", "unknown_organization"}), 1u);
  EXPECT_EQ(r.byStage.value({"request", "unknown_organization"}), 0u);  // values are a pair, not a set
  const auto series = r.byStage.series();
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[0].labelValues, (std::vector<std::string>{"identity", "unknown_organization"}));
  EXPECT_EQ(series[1].labelValues, (std::vector<std::string>{"request", "no_grant"}));
  EXPECT_EQ(series[1].value, 3u);
}

TEST(Counters, ManyThreadsLoseNoIncrement) {
  SmallRegistry r;
  constexpr int kThreads = 8;
  constexpr int kEach = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&r, t] {
      for (int i = 0; i < kEach; ++i) {
        r.hits.inc();
        r.byReason.inc({t % 2 == 0 ? "even" : "odd"});
        if (i % 1000 == 0) (void)r.byReason.series();  // readers alongside writers
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(r.hits.value(), static_cast<std::uint64_t>(kThreads) * kEach);
  EXPECT_EQ(r.byReason.value({"even"}) + r.byReason.value({"odd"}), static_cast<std::uint64_t>(kThreads) * kEach);
  EXPECT_EQ(r.byReason.value({"even"}), r.byReason.value({"odd"}));
}

struct TwiceDeclared : CounterRegistry {
  Counter a{*this, "t_same_total", "First."};
  Counter b{*this, "t_same_total", "Second."};
};

TEST(CountersDeathTest, AFamilyNameDeclaredTwiceAborts) {
  EXPECT_DEATH({ TwiceDeclared twice; }, "t_same_total declared twice");
}

// docs/operations.md (Metrics) names every counter the node has.
TEST(Counters, EveryNodeCounterIsDocumented) {
  std::ifstream in(std::string(HIE_SOURCE_DIR) + "/docs/operations.md");
  ASSERT_TRUE(in) << "docs/operations.md";
  std::stringstream text;
  text << in.rdbuf();
  Counters counters;
  EXPECT_GE(counters.families().size(), 29u);
  for (const CounterFamily* family : counters.families()) {
    EXPECT_NE(text.str().find("`" + family->info().name + "`"), std::string::npos) << family->info().name;
  }
}

}  // namespace
}  // namespace hie

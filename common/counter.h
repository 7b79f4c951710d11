// Typed monotonic counters: a family is declared once with its Prometheus
// name, help text and label names; call sites give only the label values.
// Thread-safe: unlabeled counters are lock-free, each labeled family has its
// own mutex. Plain C++ (rendered to text by exchange/http/prometheus_text.h).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace hie {

class CounterRegistry;

// What a family is, as declared: name and label names as Prometheus shows them.
struct CounterInfo {
  std::string name;
  std::string help;
  std::vector<std::string> labelNames;
};

// One series of a family: its label values (in labelNames order) and its count.
struct CounterSeries {
  std::vector<std::string> labelValues;
  std::uint64_t value = 0;
};

// A counter family as the registry and the renderer see it. It registers
// itself with its registry on construction; both live as long as each other.
class CounterFamily {
 public:
  CounterFamily(const CounterFamily&) = delete;
  CounterFamily& operator=(const CounterFamily&) = delete;
  const CounterInfo& info() const { return info_; }
  // Every series counted so far (incremented at least once, even by 0),
  // ordered by label values; a series never incremented is absent.
  virtual std::vector<CounterSeries> series() const = 0;

 protected:
  CounterFamily(CounterRegistry& registry, CounterInfo info);
  ~CounterFamily() = default;

 private:
  CounterInfo info_;
};

// A counter without labels; lock-free.
class Counter final : public CounterFamily {
 public:
  Counter(CounterRegistry& registry, std::string name, std::string help);
  void inc(std::uint64_t by = 1) noexcept;
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }
  std::vector<CounterSeries> series() const override;

 private:
  std::atomic<std::uint64_t> value_{0};
  std::atomic<bool> counted_{false};  // set after the first inc(), so a series counted by 0 still shows
};

// A counter family with N labels (N is 1 or 2, see counter.cpp); one mutex per family.
template <std::size_t N>
class LabeledCounter final : public CounterFamily {
 public:
  using Labels = std::array<std::string, N>;
  LabeledCounter(CounterRegistry& registry, std::string name, std::string help,
                 std::array<const char*, N> labelNames);
  void inc(const Labels& labelValues, std::uint64_t by = 1);
  std::uint64_t value(const Labels& labelValues) const;  // 0 if never counted
  std::vector<CounterSeries> series() const override;

 private:
  mutable std::mutex mutex_;
  std::map<Labels, std::uint64_t> values_;
};

// The families of one process, in declaration order. Derive from it and
// declare the families as members (see common/counters.h).
class CounterRegistry {
 public:
  CounterRegistry() = default;
  CounterRegistry(const CounterRegistry&) = delete;
  CounterRegistry& operator=(const CounterRegistry&) = delete;
  const std::vector<const CounterFamily*>& families() const { return families_; }

 private:
  friend class CounterFamily;
  // Aborts on a second family of the same name (a declaration error, not input).
  void add(const CounterFamily& family);
  std::vector<const CounterFamily*> families_;
};

}  // namespace hie

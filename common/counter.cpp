#include "common/counter.h"

#include <cstdio>
#include <cstdlib>

namespace hie {

CounterFamily::CounterFamily(CounterRegistry& registry, CounterInfo info) : info_(std::move(info)) {
  registry.add(*this);
}

void CounterRegistry::add(const CounterFamily& family) {
  for (const CounterFamily* known : families_) {
    if (known->info().name == family.info().name) {
      std::fprintf(stderr, "counter %s declared twice\n", family.info().name.c_str());
      std::abort();
    }
  }
  families_.push_back(&family);
}

Counter::Counter(CounterRegistry& registry, std::string name, std::string help)
    : CounterFamily(registry, CounterInfo{std::move(name), std::move(help), {}}) {}

void Counter::inc(std::uint64_t by) noexcept {
  value_.fetch_add(by, std::memory_order_relaxed);
  // Release after the add: whoever sees the series sees at least this count.
  if (!counted_.load(std::memory_order_relaxed)) counted_.store(true, std::memory_order_release);
}

std::vector<CounterSeries> Counter::series() const {
  if (!counted_.load(std::memory_order_acquire)) return {};
  return {CounterSeries{{}, value_.load(std::memory_order_relaxed)}};
}

template <std::size_t N>
LabeledCounter<N>::LabeledCounter(CounterRegistry& registry, std::string name, std::string help,
                                  std::array<const char*, N> labelNames)
    : CounterFamily(registry, CounterInfo{std::move(name), std::move(help),
                                          std::vector<std::string>(labelNames.begin(), labelNames.end())}) {}

template <std::size_t N>
void LabeledCounter<N>::inc(const Labels& labelValues, std::uint64_t by) {
  std::lock_guard<std::mutex> lock(mutex_);
  values_[labelValues] += by;
}

template <std::size_t N>
std::uint64_t LabeledCounter<N>::value(const Labels& labelValues) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = values_.find(labelValues);
  return it == values_.end() ? 0 : it->second;
}

template <std::size_t N>
std::vector<CounterSeries> LabeledCounter<N>::series() const {
  std::vector<CounterSeries> out;
  std::lock_guard<std::mutex> lock(mutex_);
  out.reserve(values_.size());
  for (const auto& [labels, value] : values_) {  // std::map: ordered by label values
    out.push_back(CounterSeries{std::vector<std::string>(labels.begin(), labels.end()), value});
  }
  return out;
}

template class LabeledCounter<1>;
template class LabeledCounter<2>;

}  // namespace hie

#include "common/counters.h"

namespace hie {

void Counters::increment(const std::string& name, std::uint64_t by) {
  std::lock_guard<std::mutex> lock(mutex_);
  values_[name] += by;
}

std::uint64_t Counters::get(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = values_.find(name);
  return it == values_.end() ? 0 : it->second;
}

std::map<std::string, std::uint64_t> Counters::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return values_;
}

}  // namespace hie

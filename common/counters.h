// Named monotonic counters (refusals, failures); thread-safe, owned by the app.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace hie {

class Counters {
 public:
  void increment(const std::string& name, std::uint64_t by = 1);
  std::uint64_t get(const std::string& name) const;
  std::map<std::string, std::uint64_t> snapshot() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::uint64_t> values_;
};

}  // namespace hie

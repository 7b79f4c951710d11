#include "auth/registry/organization_registry.h"

#include <spdlog/spdlog.h>

namespace hie::auth {

OrganizationRegistry::OrganizationRegistry(std::unique_ptr<OrganizationSource> source,
                                           std::chrono::milliseconds pollInterval)
    : source_(std::move(source)), pollInterval_(pollInterval), snapshot_(std::make_shared<RegistrySnapshot>()) {}

OrganizationRegistry::~OrganizationRegistry() { stop(); }

Result<bool> OrganizationRegistry::start() {
  auto loaded = refresh();
  if (!loaded) return loaded;
  thread_ = std::thread([this] { run(); });
  return true;
}

void OrganizationRegistry::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

OrganizationSnapshot OrganizationRegistry::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return snapshot_;
}

double OrganizationRegistry::secondsSinceLastSuccess() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - lastSuccess_).count();
}

Result<bool> OrganizationRegistry::refresh() {
  std::lock_guard<std::mutex> sourceLock(sourceMutex_);
  auto generation = source_->generation();
  if (!generation) return tl::make_unexpected(generation.error());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (*generation == generation_) {
      lastSuccess_ = std::chrono::steady_clock::now();
      return false;
    }
  }
  // Read the generation before the rows: a change between the two reads is
  // picked up by the next poll rather than lost.
  auto all = source_->loadAll();
  if (!all) return tl::make_unexpected(all.error());
  auto fresh = std::make_shared<const RegistrySnapshot>(std::move(*all));
  std::lock_guard<std::mutex> lock(mutex_);
  snapshot_ = std::move(fresh);
  generation_ = *generation;
  lastSuccess_ = std::chrono::steady_clock::now();
  return true;
}

void OrganizationRegistry::run() {
  bool failing = false;
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, pollInterval_, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    auto result = refresh();
    if (!result) {
      if (!failing) spdlog::warn("registry refresh failed, keeping the last snapshot: {}", result.error().internal);
      failing = true;
    } else {
      if (failing) spdlog::info("registry refresh recovered");
      failing = false;
      if (*result) {
        auto current = snapshot();
        spdlog::info("registry reloaded: {} organizations, {} with grants, {} patient consents",
                     current->organizations.size(), current->grantsByOrganization.size(), current->consents.size());
      }
    }
    lock.lock();
  }
}

}  // namespace hie::auth

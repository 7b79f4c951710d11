// The server's cached view of organizations, grants and consent: identity
// mapping and policy read an in-memory snapshot (no database round trip); a
// background thread polls a change counter and reloads when it moves, so
// changes reach new requests within about one poll interval.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "auth/registry/registry_snapshot.h"
#include "common/result.h"

namespace hie::auth {

// Where the snapshot comes from (the database in production, a fake in tests).
class OrganizationSource {
 public:
  virtual ~OrganizationSource() = default;
  // A number that changes whenever any organization, pin, grant or consent changes.
  virtual Result<std::int64_t> generation() = 0;
  virtual Result<RegistrySnapshot> loadAll() = 0;
};

using OrganizationSnapshot = std::shared_ptr<const RegistrySnapshot>;

// What the request path needs: the current snapshot, without I/O.
class OrganizationDirectory {
 public:
  virtual ~OrganizationDirectory() = default;
  virtual OrganizationSnapshot snapshot() const = 0;
};

// A directory fixed at one snapshot: for one-shot commands (no polling) and tests.
class FixedOrganizationDirectory : public OrganizationDirectory {
 public:
  explicit FixedOrganizationDirectory(RegistrySnapshot snap)
      : snap_(std::make_shared<const RegistrySnapshot>(std::move(snap))) {}
  OrganizationSnapshot snapshot() const override { return snap_; }

 private:
  OrganizationSnapshot snap_;
};

class OrganizationRegistry : public OrganizationDirectory {
 public:
  OrganizationRegistry(std::unique_ptr<OrganizationSource> source, std::chrono::milliseconds pollInterval);
  ~OrganizationRegistry() override;
  OrganizationRegistry(const OrganizationRegistry&) = delete;
  OrganizationRegistry& operator=(const OrganizationRegistry&) = delete;

  // Loads once (must succeed) and starts the polling thread.
  Result<bool> start();
  void stop();

  // Never null after a successful start().
  OrganizationSnapshot snapshot() const override;

  // One poll: reloads if the generation moved. Errors keep the old snapshot.
  Result<bool> refresh();

  // Seconds since the last successful poll (for readiness and logs).
  double secondsSinceLastSuccess() const;

 private:
  void run();

  std::unique_ptr<OrganizationSource> source_;
  std::chrono::milliseconds pollInterval_;
  mutable std::mutex mutex_;
  OrganizationSnapshot snapshot_;
  std::int64_t generation_ = -1;
  std::chrono::steady_clock::time_point lastSuccess_;
  std::mutex sourceMutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hie::auth

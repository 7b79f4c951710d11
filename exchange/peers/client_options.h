// The outbound client's settings (client.* keys; see docs/configuration.md).
#pragma once

#include <chrono>
#include <cstddef>

namespace hie::exchange {

struct ClientOptions {
  std::chrono::milliseconds connectTimeout{2000};
  std::chrono::milliseconds readTimeout{5000};
  int retries = 1;                        // extra attempts after a connection failure
  std::size_t maxResponseBytes = 16 << 20;
  int maxConcurrentCalls = 32;            // worker threads for calls made through submit(), node-wide
};

}  // namespace hie::exchange

// The outbound client's settings (client.* keys; see docs/configuration.md).
#pragma once

#include <chrono>
#include <cstddef>

#include "auth/signatures/signature_policy.h"

namespace hie::exchange {

struct ClientOptions {
  std::chrono::milliseconds connectTimeout{2000};
  std::chrono::milliseconds readTimeout{5000};
  int retries = 1;                        // extra attempts after a connection failure
  std::size_t maxResponseBytes = 16 << 20;
  int maxConcurrentCalls = 32;            // worker threads for calls made through submit(), node-wide
  // signatures.*: sign = sign every request; answers = how peers' answers are checked (an
  // organization's own signature policy wins); maxAge and clockSkew bound an answer's `created`.
  auth::SignatureSettings signatures;
};

}  // namespace hie::exchange

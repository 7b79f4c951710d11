// How much slower the code under test runs in this build, for the few waits
// and bounds that depend on speed: ThreadSanitizer slows a node 3-5x, so its
// bounds grow by this factor (AddressSanitizer builds are the reference).
#pragma once

namespace hie::testing {

#if defined(__SANITIZE_THREAD__)
constexpr int kSlowdown = 3;
#else
constexpr int kSlowdown = 1;
#endif

}  // namespace hie::testing

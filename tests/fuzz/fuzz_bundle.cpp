// libFuzzer target: the FHIR bundle importer's checks.
#include <cstddef>
#include <cstdint>
#include <string>

#include "exchange/fhir/bundle_import.h"
#include "exchange/handlers/record_api.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  auto check = hie::exchange::checkBundle(input, hie::exchange::defaultResourceTypes());
  (void)check.ok();
  return 0;
}

// libFuzzer target: the request router's FHIR path and query parsing.
// Input: "<path>?<query>" as a peer could send it.
#include <cstddef>
#include <cstdint>
#include <string>

#include <Poco/Exception.h>
#include <Poco/URI.h>

#include "exchange/fhir/fhir_request.h"
#include "exchange/handlers/record_api.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  try {
    Poco::URI uri(input);
    hie::exchange::HeaderList query;
    for (const auto& kv : uri.getQueryParameters()) query.push_back(kv);
    auto parsed = hie::exchange::parseFhirRequest(uri.getPath(), query, hie::exchange::defaultResourceTypes(),
                                                  hie::exchange::SearchLimits{});
    if (parsed && parsed->kind == hie::exchange::FhirRequest::Kind::kSearch) {
      (void)hie::exchange::nextPageQuery(*parsed, parsed->after);
    }
  } catch (const Poco::Exception&) {
    // The listener answers 400 for an unparsable URI; nothing else may throw.
  }
  return 0;
}

// libFuzzer target: the FHIR write API's Bundle parser (POST /fhir transaction|batch)
// and, for the entries it accepts, finalizeWrites with an id for every entry (urn:uuid:
// reference rewriting, patient of each resource). Besides crashes it checks what the
// parser promises the store: with every written entry given an id, finalizing raises no
// problem, leaves no Reference.reference to a urn:uuid: unresolved, and every resource it
// writes is JSON again with every number as sent (no marker of exact_numbers.h left over).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>

#include <Poco/JSON/Parser.h>

#include "exchange/fhir/fhir_write.h"
#include "exchange/handlers/record_api.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hie::exchange;
  const std::string input(reinterpret_cast<const char*>(data), size);
  WriteLimits limits;
  limits.maxEntries = 64;
  const WriteRequest request = parseWriteBundle(input, defaultResourceTypes(), limits);
  // A transaction with a problem has nothing to apply; a batch keeps its good entries.
  if (!request.ok() && !request.entries.empty() && request.kind != WriteRequest::Kind::kBatch) std::abort();
  std::map<int, std::string> ids;
  for (std::size_t i = 0; i < request.entries.size(); ++i) {
    const WriteEntry& entry = request.entries[i];
    if (entry.method == WriteMethod::kDelete) continue;
    ids[static_cast<int>(i)] = entry.id.empty() ? "gen-" + std::to_string(i) : entry.id;
  }
  const Finalized finalized = finalizeWrites(request, ids);
  if (!finalized.problems.empty()) std::abort();
  for (const FinalResource& resource : finalized.resources) {
    if (resource.json.find("\"reference\":\"urn:uuid:") != std::string::npos) std::abort();
    if (resource.json.find('\0') != std::string::npos) std::abort();
    if (resource.json.find("\"\\u0001") != std::string::npos) std::abort();  // a marker string left
    try {
      Poco::JSON::Parser parser;
      (void)parser.parse(resource.json);
    } catch (...) {
      std::abort();
    }
  }
  for (std::size_t i = 0; i < request.entries.size(); ++i) (void)batchEntry(request, i);
  return 0;
}

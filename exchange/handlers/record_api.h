// GET /fhir/{Type}/{id}, GET /fhir/{Type}/{id}/_history/{vid} and
// GET /fhir/{Type}?patient...: purpose of use, policy decision, one store
// round trip, FHIR JSON out. Reads carry ETag W/"version" and Last-Modified; a
// deleted resource is 410 to a reader who could see it, 404 to others. Writes
// are record_write_api.h.
//
// A patient the caller may not see (opt-out, or a denial of that
// organization) looks exactly like a patient that does not exist: 404 for a
// read, no entries for a search. Missing grants are 403: they concern the
// caller, not the patient.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "auth/policy/policy.h"
#include "auth/registry/organization.h"
#include "auth/registry/registry_snapshot.h"
#include "exchange/fhir/fhir_request.h"
#include "exchange/fhir/fhir_write.h"
#include "exchange/http/http_call.h"
#include "exchange/records/record_store.h"

namespace hie::exchange {

const std::set<std::string>& defaultResourceTypes();

// An ETag / FHIR version tag: W/"3".
std::string versionTag(int version);
// An HTTP date (RFC 9110 IMF-fixdate) for Last-Modified.
std::string httpDate(std::int64_t epochSeconds);

struct RecordApiSettings {
  std::set<std::string> resourceTypes = defaultResourceTypes();
  SearchLimits limits;
  auth::PolicySettings policy;
  // The write API (record_write_api.h).
  WriteLimits writeLimits;                                             // records.maxBundleEntries
  std::size_t maxWriteBytes = 8 * 1024 * 1024;                         // records.maxRequestBytes
  std::set<std::string> writePurposes = auth::defaultWritePurposes();  // records.writePurposes
};

class RecordApi {
 public:
  RecordApi(RecordStore& store, RecordApiSettings settings);

  // baseUrl starts fullUrl and the links of a search (publicBaseUrl, decided by the request gate).
  HttpReply handle(const HttpCall& call, const auth::Organization& organization,
                   const auth::RegistrySnapshot& registry, const std::string& baseUrl) const;
  const RecordApiSettings& settings() const { return settings_; }

 private:
  HttpReply handleValid(const FhirRequest& request, const HttpCall& call, const auth::Organization& organization,
                        const auth::RegistrySnapshot& registry, const std::string& baseUrl) const;
  HttpReply read(const FhirRequest& request, const auth::AccessQuestion& question,
                 const auth::RegistrySnapshot& registry) const;
  HttpReply readOne(const Result<std::optional<StoredResource>>& found, const auth::AccessQuestion& question,
                    const auth::RegistrySnapshot& registry, bool version) const;
  HttpReply search(const FhirRequest& request, const auth::AccessQuestion& question,
                   const auth::RegistrySnapshot& registry, const std::string& baseUrl) const;

  RecordStore& store_;
  RecordApiSettings settings_;
};

}  // namespace hie::exchange

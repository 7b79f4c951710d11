// GET /fhir/{Type}/{id} and GET /fhir/{Type}?patient...: purpose of use,
// policy decision, one store round trip, FHIR JSON out.
//
// A patient the caller may not see (opt-out, or a denial of that
// organization) looks exactly like a patient that does not exist: 404 for a
// read, no entries for a search. Missing grants are 403: they concern the
// caller, not the patient.
#pragma once

#include <set>
#include <string>

#include "auth/policy/policy.h"
#include "auth/registry/organization.h"
#include "auth/registry/registry_snapshot.h"
#include "exchange/fhir/fhir_request.h"
#include "exchange/http/http_call.h"
#include "exchange/records/record_store.h"

namespace hie::exchange {

const std::set<std::string>& defaultResourceTypes();

struct RecordApiSettings {
  std::set<std::string> resourceTypes = defaultResourceTypes();
  SearchLimits limits;
  auth::PolicySettings policy;
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
  HttpReply search(const FhirRequest& request, const auth::AccessQuestion& question,
                   const auth::RegistrySnapshot& registry, const std::string& baseUrl) const;

  RecordStore& store_;
  RecordApiSettings settings_;
};

}  // namespace hie::exchange

// Parsing a FHIR read or search request (path + query) into a validated
// value. Pure: hostile input becomes an Error (400/404), never a query.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/utf8.h"
#include "exchange/http/http_call.h"

namespace hie::exchange {

// 1 to max bytes of valid UTF-8 without control characters (C0 or DEL): what a search value,
// an identifier's system or value may be.
bool isPlainText(const std::string& s, std::size_t max);

// FHIR id: 1-64 of [A-Za-z0-9.-].
bool isValidFhirId(const std::string& id);


struct PatientSelector {
  std::string patientId;            // set for patient=ID (and Patient/ID)
  std::string system, value;        // set for an identifier (patient.identifier= or Patient?identifier=)
  bool byIdentifier() const { return patientId.empty(); }
};

struct FhirRequest {
  enum class Kind { kRead, kVersionRead, kSearch };
  Kind kind = Kind::kRead;
  std::string resourceType;
  std::string id;                  // kRead, kVersionRead
  int version = 0;                 // kVersionRead: GET /fhir/{Type}/{id}/_history/{version}
  PatientSelector patient;         // kSearch
  int count = 20;                  // kSearch page size
  std::string after;               // kSearch cursor: last id of the previous page ("" = first page)
};

// A search parameter the API accepts for a resource type, as /fhir/metadata declares it.
struct SearchParameterSpec {
  std::string name;           // as in the query string
  std::string type;           // FHIR search parameter type (R4 search-param-type)
  std::string definition;     // canonical URL of the R4 SearchParameter it implements ("" for none)
  std::string documentation;  // how this node applies it
};

// Every search parameter a search of resourceType takes, in the order declared. Next links
// add an opaque _cursor, which is part of the link rather than a parameter for clients.
std::vector<SearchParameterSpec> searchParameters(const std::string& resourceType);

struct SearchLimits {
  int defaultCount = 20;
  int maxCount = 100;
};

// path like /fhir/Observation, /fhir/Observation/obs-1 or /fhir/Observation/obs-1/_history/2. Unknown or
// unsupported types are kNotFound; malformed ids, unknown, duplicated or
// missing parameters and bad _count are kInvalidInput.
Result<FhirRequest> parseFhirRequest(const std::string& path, const HeaderList& query,
                                     const std::set<std::string>& supportedTypes, const SearchLimits& limits);

// A patient identifier SYSTEM|VALUE: one '|', system and value each 1-256
// printable characters (valid UTF-8, no control bytes). kInvalidInput naming
// the parameter (`name`) otherwise.
Result<PatientSelector> parsePatientIdentifier(const std::string& name, const std::string& text);

// The request's X-Purpose-Of-Use headers: how many there are, and the last one's value.
struct PurposeOfUseHeader {
  int count = 0;
  std::string value;
  // Exactly one header holding an HL7 v3 PurposeOfUse code this node knows.
  bool valid() const;
};
PurposeOfUseHeader purposeOfUseHeader(const HttpCall& call);

// The query string that asks for the page after `after` (for next links).
std::string nextPageQuery(const FhirRequest& request, const std::string& after);

}  // namespace hie::exchange

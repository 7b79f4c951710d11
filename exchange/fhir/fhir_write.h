// The FHIR write API's requests (pure): a transaction or batch Bundle for
// POST /fhir, or one resource for PUT / POST / DELETE /fhir/{Type}..., parsed
// and checked into WriteEntry values. Every problem names its entry; nothing
// here touches the store. Ids the store decides (creates, conditional
// updates) are resolved later by finalizeWrites, which also rewrites the
// references to urn:uuid: fullUrls.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "exchange/fhir/fhir_request.h"

namespace hie::exchange {

struct WriteLimits {
  std::size_t maxEntries = 1000;  // records.maxBundleEntries
};

enum class WriteMethod {
  kPut,             // PUT Type/id: create or update
  kConditionalPut,  // PUT Type?identifier=SYSTEM|VALUE
  kPost,            // POST Type (ifNoneExist: identifier=SYSTEM|VALUE)
  kDelete,          // DELETE Type/id
};

const char* writeMethodName(WriteMethod method);  // PUT | POST | DELETE

struct WriteEntry {
  int index = -1;                 // Bundle.entry index; -1 for a single-resource request
  WriteMethod method = WriteMethod::kPut;
  std::string type;
  std::string id;                 // kPut/kDelete: from the URL; kConditionalPut/kPost: the resource's id or ""
  PatientSelector condition;      // kConditionalPut, and kPost with ifNoneExist (system and value set)
  bool conditional = false;       // a condition was given
  std::optional<int> ifMatch;     // the version the writer expects to replace (If-Match W/"n")
  std::string fullUrl;            // as given ("" = none)
};

struct WriteProblem {
  int index = -1;                 // Bundle.entry index, -1 for the request as a whole
  int status = 400;               // the HTTP status the problem calls for (400, 404, 409, 412, 413, 415)
  std::string issueCode;          // FHIR IssueType: invalid, not-supported, too-costly, ...
  std::string text;               // safe to send: names elements, never quotes patient data
};

// What the parsed resources are held in (Poco JSON values); opaque outside fhir_write.cpp.
struct WriteDocument;

struct WriteRequest {
  enum class Kind { kSingle, kTransaction, kBatch };
  Kind kind = Kind::kSingle;
  std::vector<WriteEntry> entries;          // in the order they are applied: FHIR's (DELETE, POST, PUT), and
                                            // within each by type, condition and id (a fixed lock order)
  std::vector<WriteProblem> problems;       // transaction, single: any problem refuses the whole request
  std::shared_ptr<WriteDocument> document;  // the resources of entries (shared by copies)
  bool ok() const { return problems.empty(); }
};

// POST /fhir with a Bundle of type transaction or batch. In a batch, an entry with problems
// gets its own problem and the other entries stay; bundle-level problems (not JSON, wrong
// type, too many entries) have index -1. Checks: UTF-8, JSON, types served, id syntax,
// request.method and url, resource.resourceType and id agree with the url, R4 rules
// (resource_checks.h), identifiers, no NUL, patient references (Patient/ID, or the fullUrl
// of a Patient entry in a transaction), no resource or fullUrl twice in a transaction.
WriteRequest parseWriteBundle(const std::string& body, const std::set<std::string>& types, const WriteLimits& limits);

// PUT /fhir/{Type}/{id}, PUT /fhir/{Type}?identifier=SYSTEM|VALUE, POST /fhir/{Type} and
// DELETE /fhir/{Type}/{id}. target is the path after /fhir/ (decoded), query the decoded
// parameters; ifMatch and ifNoneExist are the header fields' values ("" = absent).
WriteRequest parseSingleWrite(const std::string& method, const std::string& target, const HeaderList& query,
                              const std::string& body, const std::string& ifMatch, const std::string& ifNoneExist,
                              const std::set<std::string>& types);

// A batch's entry at that position of entries, as a request of its own (kBatch, one entry).
WriteRequest batchEntry(const WriteRequest& batch, std::size_t position);

// An If-Match value: W/"n" or "n" with n a version (1-9 digits, not 0); nullopt otherwise.
std::optional<int> parseVersionTag(const std::string& text);

// A resource ready to store, after the store decided every entry's id.
struct FinalResource {
  int entry = 0;                  // position in WriteRequest::entries
  std::string json;               // with urn:uuid: references rewritten, meta.versionId/lastUpdated left to the store
  std::string patientId;          // the patient it is about (its own id for Patient)
  bool patientInRequest = false;  // that patient is written by the same request
  std::vector<std::pair<std::string, std::string>> identifiers;  // Patient: (system, value) with both
};

// ids: the id the store chose for each entry that writes a resource (by position in entries;
// entries without one are skipped: deletes, and creates the store found already done).
// Rewrites every Reference.reference equal to an entry's fullUrl to Type/id, and reads each
// resource's patient. Problems (a patient reference to an entry that is no Patient) name the entry.
struct Finalized {
  std::vector<FinalResource> resources;
  std::vector<WriteProblem> problems;
};
Finalized finalizeWrites(const WriteRequest& request, const std::map<int, std::string>& ids);

}  // namespace hie::exchange

#include "exchange/fhir/fhir_write.h"

#include <algorithm>
#include <tuple>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/URI.h>

#include "common/poco_json.h"
#include "common/utf8.h"
#include "exchange/fhir/exact_numbers.h"
#include "exchange/fhir/resource_checks.h"

namespace hie::exchange {

using Poco::JSON::Array;
using Poco::JSON::Object;

struct WriteDocument {
  std::vector<Object::Ptr> resources;  // parallel to WriteRequest::entries (null for a DELETE)
  // The body's numbers as received (exact_numbers.h), shared by the entries of a batch.
  std::shared_ptr<std::vector<std::string>> numbers = std::make_shared<std::vector<std::string>>();
};

namespace {

constexpr const char* kUrnUuid = "urn:uuid:";

WriteProblem problem(int index, const std::string& text, int status = 400, const char* code = "invalid") {
  return WriteProblem{index, status, code, text};
}

// "entry 3: ..." for a bundle entry, the text itself for a single request.
std::string at(int index, const std::string& text) {
  return index < 0 ? text : "Bundle.entry[" + std::to_string(index) + "]: " + text;
}

int applyOrder(WriteMethod m) {
  switch (m) {
    case WriteMethod::kDelete: return 0;
    case WriteMethod::kPost: return 1;
    case WriteMethod::kPut:
    case WriteMethod::kConditionalPut: return 2;
  }
  return 2;
}

// "identifier=SYSTEM|VALUE", the one condition the node evaluates (If-None-Exist, conditional update).
std::optional<PatientSelector> identifierCondition(const HeaderList& query, std::string& why) {
  if (query.size() != 1 || query[0].first != "identifier") {
    why = "the only condition this node evaluates is identifier=SYSTEM|VALUE";
    return std::nullopt;
  }
  auto sel = parsePatientIdentifier("identifier", query[0].second);
  if (!sel) {
    why = sel.error().external;
    return std::nullopt;
  }
  return *sel;
}

// A query string as in a bundle's request.url or ifNoneExist, decoded.
std::optional<HeaderList> decodeQuery(const std::string& text) {
  try {
    Poco::URI uri("?" + text);
    HeaderList out;
    for (const auto& kv : uri.getQueryParameters()) out.push_back(kv);
    return out;
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
}

// Every Reference.reference in value that names a key of targets becomes its target.
void rewriteReferences(const Poco::Dynamic::Var& value, const std::map<std::string, std::string>& targets) {
  if (value.type() == typeid(Object::Ptr)) {
    Object::Ptr o = value.extract<Object::Ptr>();
    if (!o) return;
    if (o->has("reference") && o->get("reference").isString()) {
      auto it = targets.find(o->getValue<std::string>("reference"));
      if (it != targets.end()) o->set("reference", it->second);
    }
    for (const auto& [name, member] : *o) rewriteReferences(member, targets);
  } else if (value.type() == typeid(Array::Ptr)) {
    const Array::Ptr a = value.extract<Array::Ptr>();
    for (std::size_t i = 0; a && i < a->size(); ++i) rewriteReferences(a->get(static_cast<unsigned>(i)), targets);
  }
}

// Every distinct Reference.reference in value that starts with urn:uuid:. All of them: each
// must resolve, and a cap would let one past it be stored unresolved (a body's size bounds them).
void uuidReferences(const Poco::Dynamic::Var& value, std::set<std::string>& out) {
  if (value.type() == typeid(Object::Ptr)) {
    const Object::Ptr o = value.extract<Object::Ptr>();
    if (!o) return;
    if (o->has("reference") && o->get("reference").isString()) {
      const std::string ref = o->getValue<std::string>("reference");
      if (ref.compare(0, 9, kUrnUuid) == 0) out.insert(ref);
    }
    for (const auto& [name, member] : *o) uuidReferences(member, out);
  } else if (value.type() == typeid(Array::Ptr)) {
    const Array::Ptr a = value.extract<Array::Ptr>();
    for (std::size_t i = 0; a && i < a->size(); ++i) uuidReferences(a->get(static_cast<unsigned>(i)), out);
  }
}

// Parsed JSON object, or a problem (index -1) saying why not. Its numbers are markers; their texts
// go to numbers (exact_numbers.h).
Object::Ptr parseObject(const std::string& body, const char* what, std::vector<WriteProblem>& problems,
                        std::vector<std::string>& numbers) {
  if (body.empty()) {
    problems.push_back(problem(-1, std::string("the request has no body; it must be ") + what));
    return nullptr;
  }
  if (const std::size_t bad = validUtf8Prefix(body); bad != body.size()) {
    problems.push_back(problem(-1, "the body is not valid UTF-8 (first bad byte at offset " + std::to_string(bad) + ")"));
    return nullptr;
  }
  HiddenNumbers hidden = hideNumbers(body);
  if (!hidden.ok) {
    problems.push_back(problem(-1, "a string holds the control character U+0001, which FHIR strings may not"));
    return nullptr;
  }
  numbers = std::move(hidden.numbers);
  try {
    Poco::JSON::Parser parser;
    Poco::Dynamic::Var parsed = parser.parse(hidden.text);
    if (parsed.type() == typeid(Object::Ptr)) return parsed.extract<Object::Ptr>();
    problems.push_back(problem(-1, std::string("the body is JSON but not an object; it must be ") + what));
  } catch (const Poco::Exception& e) {
    problems.push_back(problem(-1, "the body is not valid JSON: " + printableName(e.message())));
  } catch (const std::exception& e) {
    problems.push_back(problem(-1, std::string("the body is not valid JSON: ") + printableName(e.what())));
  }
  return nullptr;
}

// What one entry (or single request) asks for, from its method and url; problems named by index.
struct Target {
  WriteMethod method = WriteMethod::kPut;
  std::string type, id;
  PatientSelector condition;
  bool conditional = false;
};

std::optional<Target> parseTarget(int index, const std::string& method, const std::string& url,
                                  const std::optional<HeaderList>& query, const std::set<std::string>& types,
                                  std::vector<WriteProblem>& problems) {
  Target t;
  const auto slash = url.find('/');
  t.type = url.substr(0, slash);
  if (t.type.empty() || url.find_first_of("?#") != std::string::npos) {
    problems.push_back(problem(index, at(index, "request.url must be Type, Type/id or Type?identifier=SYSTEM|VALUE, "
                                                "relative to the FHIR base")));
    return std::nullopt;
  }
  if (types.count(t.type) == 0) {
    problems.push_back(problem(index, at(index, "resource type '" + printableName(t.type) + "' is not one this node stores"),
                               index < 0 ? 404 : 400, "not-supported"));
    return std::nullopt;
  }
  if (slash != std::string::npos) {
    t.id = url.substr(slash + 1);
    if (!isValidFhirId(t.id)) {
      problems.push_back(problem(index, at(index, "the id in the url is not a valid FHIR id (1-64 of A-Z a-z 0-9 - .)")));
      return std::nullopt;
    }
  }
  const bool hasQuery = query && !query->empty();
  if (method == "PUT") {
    if (hasQuery == !t.id.empty()) {
      problems.push_back(problem(index, at(index, "PUT needs Type/id or Type?identifier=SYSTEM|VALUE")));
      return std::nullopt;
    }
    t.method = hasQuery ? WriteMethod::kConditionalPut : WriteMethod::kPut;
  } else if (method == "POST") {
    if (!t.id.empty() || hasQuery) {
      problems.push_back(problem(index, at(index, "POST creates: its url is the resource type alone (use ifNoneExist "
                                                  "for a conditional create)")));
      return std::nullopt;
    }
    t.method = WriteMethod::kPost;
  } else if (method == "DELETE") {
    if (t.id.empty() || hasQuery) {
      problems.push_back(problem(index, at(index, "DELETE needs Type/id (conditional deletes are not supported)")));
      return std::nullopt;
    }
    t.method = WriteMethod::kDelete;
  } else {
    problems.push_back(problem(index, at(index, "request.method must be PUT, POST or DELETE (this node takes no "
                                                "reads or patches in a bundle)"),
                               400, "not-supported"));
    return std::nullopt;
  }
  if (t.method == WriteMethod::kConditionalPut) {
    std::string why;
    auto cond = identifierCondition(*query, why);
    if (!cond) {
      problems.push_back(problem(index, at(index, "conditional update: " + why)));
      return std::nullopt;
    }
    t.condition = *cond;
    t.conditional = true;
  }
  return t;
}

// The resource's own checks: type, id, R4 rules, identifiers, NUL. Appends problems; true when none.
bool checkResource(int index, const Target& t, const Object::Ptr& resource, std::vector<WriteProblem>& problems) {
  const std::size_t before = problems.size();
  bool present = false;
  const std::string rt = stringField(resource, "resourceType", present);
  if (rt != t.type) {
    problems.push_back(problem(index, at(index, "resource.resourceType must be " + t.type + ", the type in the url")));
    return false;
  }
  const std::string id = stringField(resource, "id", present);
  if (resource->has("id") && (!present || !isValidFhirId(id))) {
    problems.push_back(problem(index, at(index, "resource.id is not a valid FHIR id (1-64 of A-Z a-z 0-9 - .)")));
    return false;
  }
  if (t.method == WriteMethod::kPut && id != t.id) {
    problems.push_back(problem(index, at(index, "resource.id must equal the id in the url")));
    return false;
  }
  if (containsNul(Poco::Dynamic::Var(resource))) {
    problems.push_back(problem(index, at(index, "the resource contains a NUL character (\\u0000), which cannot be stored")));
    return false;
  }
  for (const auto& p : r4Problems(resource, t.type)) problems.push_back(problem(index, at(index, p)));
  for (const auto& p : identifierProblems(resource, t.type)) problems.push_back(problem(index, at(index, p)));
  if (t.type != "Patient") {
    const std::string field = patientReferenceField(t.type);
    const Object::Ptr ref = resource->getObject(field);
    const std::string reference = ref ? stringField(ref, "reference", present) : std::string();
    const bool local = reference.compare(0, 8, "Patient/") == 0 && isValidFhirId(reference.substr(8));
    if (!local && reference.compare(0, 9, kUrnUuid) != 0) {
      problems.push_back(problem(index, at(index, field + ".reference must be Patient/ID or the urn:uuid: fullUrl of a "
                                                          "Patient in the same transaction")));
    }
  }
  return problems.size() == before;
}

}  // namespace

const char* writeMethodName(WriteMethod method) {
  switch (method) {
    case WriteMethod::kPut:
    case WriteMethod::kConditionalPut: return "PUT";
    case WriteMethod::kPost: return "POST";
    case WriteMethod::kDelete: return "DELETE";
  }
  return "PUT";
}

std::optional<int> parseVersionTag(const std::string& text) {
  std::string v = text;
  if (v.compare(0, 2, "W/") == 0) v = v.substr(2);
  if (v.size() < 3 || v.front() != '"' || v.back() != '"') return std::nullopt;
  v = v.substr(1, v.size() - 2);
  if (v.empty() || v.size() > 9 || v[0] == '0' || v.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return std::stoi(v);
}

WriteRequest parseWriteBundle(const std::string& body, const std::set<std::string>& types, const WriteLimits& limits) {
  WriteRequest out;
  out.document = std::make_shared<WriteDocument>();
  const Object::Ptr bundle =
      parseObject(body, "a FHIR Bundle of type transaction or batch", out.problems, *out.document->numbers);
  if (!bundle) return out;
  bool present = false;
  if (stringField(bundle, "resourceType", present) != "Bundle") {
    out.problems.push_back(problem(-1, "POST /fhir takes a Bundle: resourceType must be Bundle"));
    return out;
  }
  const std::string bundleType = stringField(bundle, "type", present);
  if (bundleType != "transaction" && bundleType != "batch") {
    out.problems.push_back(problem(-1, "Bundle.type must be transaction or batch"));
    return out;
  }
  out.kind = bundleType == "transaction" ? WriteRequest::Kind::kTransaction : WriteRequest::Kind::kBatch;
  const bool transaction = out.kind == WriteRequest::Kind::kTransaction;
  if (bundle->has("entry") && !bundle->isArray("entry")) {
    out.problems.push_back(problem(-1, "Bundle.entry must be an array"));
    return out;
  }
  const Array::Ptr entries = bundle->getArray("entry");
  if (!entries || entries->size() == 0) {
    out.problems.push_back(problem(-1, "the bundle has no entries"));
    return out;
  }
  if (entries->size() > limits.maxEntries) {
    out.problems.push_back(problem(-1, "the bundle has " + std::to_string(entries->size()) + " entries; this node takes at most " +
                                           std::to_string(limits.maxEntries) + " (records.maxBundleEntries)",
                                   413, "too-costly"));
    return out;
  }

  std::vector<std::pair<WriteEntry, Object::Ptr>> parsed;
  std::set<std::string> fullUrls, targets;
  std::map<std::string, std::string> typeByFullUrl;  // transaction: fullUrl -> resource type
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const int index = static_cast<int>(i);
    const std::size_t before = out.problems.size();
    const Object::Ptr entry = entries->getObject(static_cast<unsigned>(i));
    const Object::Ptr request = entry ? entry->getObject("request") : nullptr;
    if (!request) {
      out.problems.push_back(problem(index, at(index, "the entry has no request object (method and url)")));
      continue;
    }
    const std::string method = stringField(request, "method", present);
    const std::string url = stringField(request, "url", present);
    const auto q = url.find('?');
    std::optional<HeaderList> query = HeaderList{};
    if (q != std::string::npos) query = decodeQuery(url.substr(q + 1));
    if (!query) {
      out.problems.push_back(problem(index, at(index, "request.url has a malformed query")));
      continue;
    }
    auto target = parseTarget(index, method, url.substr(0, q), query, types, out.problems);
    if (!target) continue;
    WriteEntry w;
    w.index = index;
    w.method = target->method;
    w.type = target->type;
    w.id = target->id;
    w.condition = target->condition;
    w.conditional = target->conditional;
    if (request->has("ifMatch")) {
      w.ifMatch = parseVersionTag(stringField(request, "ifMatch", present));
      if (!w.ifMatch || w.method == WriteMethod::kPost) {
        out.problems.push_back(problem(index, at(index, "request.ifMatch must be W/\"n\" with n a version, on PUT or DELETE")));
        continue;
      }
    }
    if (request->has("ifNoneExist")) {
      std::string why = "ifNoneExist is only for POST";
      auto cond = w.method == WriteMethod::kPost ? decodeQuery(stringField(request, "ifNoneExist", present))
                                                 : std::optional<HeaderList>();
      std::optional<PatientSelector> sel = cond ? identifierCondition(*cond, why) : std::nullopt;
      if (!sel) {
        out.problems.push_back(problem(index, at(index, "request.ifNoneExist: " + why)));
        continue;
      }
      w.condition = *sel;
      w.conditional = true;
    }
    const std::string fullUrl = stringField(entry, "fullUrl", present);
    if (entry->has("fullUrl") && (!present || fullUrl.empty() || fullUrl.size() > 1024 || !isValidUtf8(fullUrl))) {
      out.problems.push_back(problem(index, at(index, "fullUrl must be a URI of at most 1024 characters")));
      continue;
    }
    w.fullUrl = fullUrl;
    Object::Ptr resource;
    if (w.method != WriteMethod::kDelete) {
      resource = entry->getObject("resource");
      if (!resource) {
        out.problems.push_back(problem(index, at(index, std::string(writeMethodName(w.method)) + " needs a resource object")));
        continue;
      }
      if (!checkResource(index, *target, resource, out.problems)) continue;
      if (w.method == WriteMethod::kConditionalPut || w.method == WriteMethod::kPost) {
        w.id = stringField(resource, "id", present);
      }
    }
    if (transaction) {
      // One resource is written once per transaction; a fullUrl names one entry.
      const std::string key = w.conditional ? w.type + "?" + w.condition.system + "|" + w.condition.value
                                            : w.id.empty() ? std::string() : w.type + "/" + w.id;
      // (An unconditional POST creates a resource of its own; a conditional one names its target.)
      if (!key.empty() && (w.conditional || w.method != WriteMethod::kPost) && !targets.insert(key).second) {
        out.problems.push_back(problem(index, at(index, "the transaction writes " + (w.conditional ? w.type + " of that identifier" : key) +
                                                            " more than once")));
        continue;
      }
      if (!fullUrl.empty() && !fullUrls.insert(fullUrl).second) {
        out.problems.push_back(problem(index, at(index, "fullUrl appears in more than one entry")));
        continue;
      }
      if (!fullUrl.empty() && w.method != WriteMethod::kDelete) typeByFullUrl[fullUrl] = w.type;
    }
    if (out.problems.size() == before) parsed.emplace_back(std::move(w), resource);
  }

  // urn:uuid: references must name an entry of the same transaction (a batch's entries stand alone);
  // a patient reference must name a Patient.
  for (auto& [w, resource] : parsed) {
    if (!resource) continue;
    std::set<std::string> refs;
    uuidReferences(Poco::Dynamic::Var(resource), refs);
    for (const auto& ref : refs) {
      auto it = typeByFullUrl.find(ref);
      if (it == typeByFullUrl.end()) {
        out.problems.push_back(problem(w.index, at(w.index, transaction ? "a reference to a urn:uuid: that no entry of this transaction has as its fullUrl"
                                                                         : "a reference to a urn:uuid:, which a batch cannot resolve (entries of a batch stand alone)")));
        break;
      }
    }
    if (w.type != "Patient") {
      const Object::Ptr ref = resource->getObject(patientReferenceField(w.type));
      bool present2 = false;
      const std::string reference = stringField(ref, "reference", present2);
      auto it = typeByFullUrl.find(reference);
      if (it != typeByFullUrl.end() && it->second != "Patient") {
        out.problems.push_back(problem(w.index, at(w.index, std::string(patientReferenceField(w.type)) +
                                                                 ".reference names an entry that is not a Patient")));
      }
    }
  }
  if (transaction && !out.problems.empty()) return out;

  std::set<int> refused;
  for (const auto& p : out.problems) refused.insert(p.index);
  // FHIR's order (DELETE, POST, PUT); within each, by what is written, so that two transactions
  // touching the same resources lock them in the same order instead of deadlocking.
  std::stable_sort(parsed.begin(), parsed.end(), [](const auto& a, const auto& b) {
    const WriteEntry& x = a.first;
    const WriteEntry& y = b.first;
    if (applyOrder(x.method) != applyOrder(y.method)) return applyOrder(x.method) < applyOrder(y.method);
    return std::tie(x.type, x.conditional, x.condition.system, x.condition.value, x.id) <
           std::tie(y.type, y.conditional, y.condition.system, y.condition.value, y.id);
  });
  for (auto& [w, resource] : parsed) {
    if (refused.count(w.index) != 0) continue;
    out.entries.push_back(std::move(w));
    out.document->resources.push_back(resource);
  }
  return out;
}

WriteRequest parseSingleWrite(const std::string& method, const std::string& target, const HeaderList& query,
                              const std::string& body, const std::string& ifMatch, const std::string& ifNoneExist,
                              const std::set<std::string>& types) {
  WriteRequest out;
  out.kind = WriteRequest::Kind::kSingle;
  out.document = std::make_shared<WriteDocument>();
  auto t = parseTarget(-1, method, target, query, types, out.problems);
  if (!t) return out;
  WriteEntry w;
  w.method = t->method;
  w.type = t->type;
  w.id = t->id;
  w.condition = t->condition;
  w.conditional = t->conditional;
  if (!ifMatch.empty()) {
    w.ifMatch = parseVersionTag(ifMatch);
    if (!w.ifMatch || w.method == WriteMethod::kPost) {
      out.problems.push_back(problem(-1, "If-Match must be W/\"n\" with n a version (as in the ETag), on PUT or DELETE"));
      return out;
    }
  }
  if (!ifNoneExist.empty()) {
    std::string why = "If-None-Exist is only for POST";
    auto cond = w.method == WriteMethod::kPost ? decodeQuery(ifNoneExist) : std::optional<HeaderList>();
    std::optional<PatientSelector> sel = cond ? identifierCondition(*cond, why) : std::nullopt;
    if (!sel) {
      out.problems.push_back(problem(-1, "If-None-Exist: " + why));
      return out;
    }
    w.condition = *sel;
    w.conditional = true;
  }
  Object::Ptr resource;
  if (w.method == WriteMethod::kDelete) {
    if (!body.empty()) {
      out.problems.push_back(problem(-1, "DELETE takes no body"));
      return out;
    }
  } else {
    resource = parseObject(body, ("a " + w.type + " resource").c_str(), out.problems, *out.document->numbers);
    if (!resource || !checkResource(-1, *t, resource, out.problems)) return out;
    bool present = false;
    if (w.method != WriteMethod::kPut) w.id = stringField(resource, "id", present);
    std::set<std::string> refs;
    uuidReferences(Poco::Dynamic::Var(resource), refs);
    if (!refs.empty()) {
      out.problems.push_back(problem(-1, "a reference to a urn:uuid:, which only a transaction can resolve"));
      return out;
    }
  }
  if (w.method == WriteMethod::kPost) w.id.clear();  // the server assigns the id of a create
  out.entries.push_back(std::move(w));
  out.document->resources.push_back(resource);
  return out;
}

WriteRequest batchEntry(const WriteRequest& batch, std::size_t position) {
  WriteRequest out;
  out.kind = WriteRequest::Kind::kBatch;
  out.document = std::make_shared<WriteDocument>();
  out.entries.push_back(batch.entries.at(position));
  out.document->resources.push_back(batch.document->resources.at(position));
  out.document->numbers = batch.document->numbers;
  return out;
}

Finalized finalizeWrites(const WriteRequest& request, const std::map<int, std::string>& ids) {
  Finalized out;
  std::map<std::string, std::string> targets;  // fullUrl -> Type/id
  std::set<std::string> patientsWritten;
  for (std::size_t i = 0; i < request.entries.size(); ++i) {
    const WriteEntry& w = request.entries[i];
    auto id = ids.find(static_cast<int>(i));
    if (id == ids.end()) continue;
    if (!w.fullUrl.empty()) targets[w.fullUrl] = w.type + "/" + id->second;
    if (w.type == "Patient") patientsWritten.insert(id->second);
  }
  for (std::size_t i = 0; i < request.entries.size(); ++i) {
    const WriteEntry& w = request.entries[i];
    auto id = ids.find(static_cast<int>(i));
    Object::Ptr resource = request.document->resources[i];
    if (id == ids.end() || !resource) continue;
    resource->set("id", id->second);
    rewriteReferences(Poco::Dynamic::Var(resource), targets);
    FinalResource r;
    r.entry = static_cast<int>(i);
    bool present = false;
    if (w.type == "Patient") {
      r.patientId = id->second;
      if (Array::Ptr list = resource->getArray("identifier")) {
        for (std::size_t k = 0; k < list->size(); ++k) {
          const Object::Ptr ident = list->getObject(static_cast<unsigned>(k));
          if (!ident) continue;
          bool hasSystem = false, hasValue = false;
          std::string system = stringField(ident, "system", hasSystem);
          std::string value = stringField(ident, "value", hasValue);
          if (hasSystem && hasValue) r.identifiers.emplace_back(system, value);
        }
      }
    } else {
      const std::string reference = stringField(resource->getObject(patientReferenceField(w.type)), "reference", present);
      if (reference.compare(0, 8, "Patient/") != 0 || !isValidFhirId(reference.substr(8))) {
        out.problems.push_back(problem(w.index, at(w.index, std::string(patientReferenceField(w.type)) +
                                                                 ".reference does not resolve to a Patient")));
        continue;
      }
      r.patientId = reference.substr(8);
    }
    r.patientInRequest = patientsWritten.count(r.patientId) != 0;
    r.json = restoreNumbers(pocoJsonText(Poco::Dynamic::Var(resource)), *request.document->numbers);
    out.resources.push_back(std::move(r));
  }
  return out;
}

}  // namespace hie::exchange

#include "exchange/handlers/capability_statement.h"


#include <utility>

#include <Poco/JSON/Object.h>

#include "common/poco_json.h"
#include "common/time.h"
#include "exchange/fhir/fhir_request.h"

namespace hie::exchange {
namespace {

// The interactions of each served type, with how this node applies them.
const std::pair<const char*, const char*> kResourceInteractions[] = {
    {"read", "Needs X-Purpose-Of-Use and a grant for read; answers ETag W/\"n\" and Last-Modified; 410 when deleted."},
    {"vread", "GET [type]/[id]/_history/[vid]: the same access rules as read."},
    {"search-type", "Needs X-Purpose-Of-Use and a grant for search; exactly one patient selector."},
    {"update", "Role local only. PUT [type]/[id] (creates it when new) or PUT [type]?identifier=SYSTEM|VALUE; "
               "If-Match W/\"n\" is checked (412 when not current)."},
    {"delete", "Role local only. DELETE [type]/[id]; If-Match W/\"n\" is checked; a Patient only without resources."},
    {"create", "Role local only. POST [type]; the server assigns the id; If-None-Exist: identifier=SYSTEM|VALUE."},
};

Poco::JSON::Object::Ptr interaction(const char* code, const char* documentation) {
  Poco::JSON::Object::Ptr i = new Poco::JSON::Object;
  i->set("code", code);
  i->set("documentation", documentation);
  return i;
}

}  // namespace

CapabilityStatementHandler::CapabilityStatementHandler(const NodeDescription& node) {
  using Poco::JSON::Array;
  using Poco::JSON::Object;
  Object::Ptr software = new Object;
  software->set("name", "hie-node");
  software->set("version", node.softwareVersion);
  Object::Ptr implementation = new Object;
  implementation->set("description", "hie-node " + node.nodeId + " of " + node.organization);

  Object::Ptr security = new Object;
  security->set("description",
                "Mutual TLS only. The client certificate identifies the organization (SAN URI or pinned "
                "certificate); there are no passwords or tokens.");
  Array::Ptr resources = new Array;
  for (const auto& type : node.resourceTypes) {
    Object::Ptr r = new Object;
    r->set("type", type);
    // Reads for every admitted organization its grants allow; writes for role local only
    // (docs/api.md, "Writing records").
    Array::Ptr interactions = new Array;
    for (const auto& [code, documentation] : kResourceInteractions) interactions->add(interaction(code, documentation));
    r->set("interaction", interactions);
    r->set("versioning", "versioned-update");  // every write keeps a version; If-Match W/"n" on update and delete
    r->set("readHistory", true);               // GET /fhir/{Type}/{id}/_history/{vid}
    r->set("updateCreate", true);              // PUT of an id that does not exist creates it
    r->set("conditionalCreate", true);         // If-None-Exist: identifier=SYSTEM|VALUE
    r->set("conditionalUpdate", true);         // PUT /fhir/{Type}?identifier=SYSTEM|VALUE
    r->set("conditionalDelete", "not-supported");
    // Exactly the parameters the search parser accepts (one list serves both).
    Array::Ptr params = new Array;
    for (const auto& spec : searchParameters(type)) {
      Object::Ptr p = new Object;
      p->set("name", spec.name);
      if (!spec.definition.empty()) p->set("definition", spec.definition);
      p->set("type", spec.type);
      if (!spec.documentation.empty()) p->set("documentation", spec.documentation);
      params->add(p);
    }
    if (params->size() > 0) r->set("searchParam", params);
    resources->add(r);
  }
  Object::Ptr rest = new Object;
  rest->set("mode", "server");
  rest->set("security", security);
  Array::Ptr restInteractions = new Array;
  restInteractions->add(interaction("transaction", "POST /fhir with a Bundle of type transaction: all entries or none "
                                                   "(role local)."));
  restInteractions->add(interaction("batch", "POST /fhir with a Bundle of type batch: each entry on its own (role "
                                             "local)."));
  rest->set("interaction", restInteractions);
  if (resources->size() > 0) rest->set("resource", resources);  // FHIR allows no empty array
  Array::Ptr rests = new Array;
  rests->add(rest);
  Array::Ptr formats = new Array;
  formats->add("application/fhir+json");

  Object statement;
  statement.set("resourceType", "CapabilityStatement");
  statement.set("status", "active");
  statement.set("date", utc::today());
  statement.set("kind", "instance");
  statement.set("software", software);
  statement.set("implementation", implementation);
  statement.set("fhirVersion", "4.0.1");
  statement.set("format", formats);
  statement.set("rest", rests);
  body_ = pocoJsonText(statement);
}

HttpReply CapabilityStatementHandler::handle(const HttpCall&) const {
  HttpReply reply;
  reply.body = body_;
  return reply;
}

}  // namespace hie::exchange

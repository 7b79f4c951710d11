#include "exchange/handlers/capability_statement.h"


#include <Poco/JSON/Object.h>

#include "common/poco_json.h"
#include "common/time.h"
#include "exchange/fhir/fhir_request.h"

namespace hie::exchange {

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
    Array::Ptr interactions = new Array;
    for (const char* code : {"read", "search-type"}) {
      Object::Ptr i = new Object;
      i->set("code", code);
      interactions->add(i);
    }
    r->set("interaction", interactions);
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

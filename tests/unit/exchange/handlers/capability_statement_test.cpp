// The CapabilityStatement handler: what /fhir/metadata declares.
#include "exchange/handlers/capability_statement.h"

#include <gtest/gtest.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

namespace hie::exchange {
namespace {

Poco::JSON::Object::Ptr parse(const std::string& body) {
  Poco::JSON::Parser parser;
  return parser.parse(body).extract<Poco::JSON::Object::Ptr>();
}

TEST(CapabilityStatement, DeclaresTheServedTypesWithReadsSearchAndWrites) {
  CapabilityStatementHandler handler(
      NodeDescription{"node-a", "urn:oid:2.16.840.1.113883.3.7001", "1.2.3", {"Observation", "Patient"}});
  auto reply = handler.handle(HttpCall{});
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.contentType, "application/fhir+json");
  EXPECT_TRUE(reply.refusalReason.empty());
  auto statement = parse(reply.body);
  EXPECT_EQ(statement->getValue<std::string>("resourceType"), "CapabilityStatement");
  EXPECT_EQ(statement->getValue<std::string>("fhirVersion"), "4.0.1");
  EXPECT_EQ(statement->getValue<std::string>("kind"), "instance");
  EXPECT_EQ(statement->getObject("software")->getValue<std::string>("version"), "1.2.3");
  EXPECT_EQ(statement->getObject("implementation")->getValue<std::string>("description"),
            "hie-node node-a of urn:oid:2.16.840.1.113883.3.7001");
  auto rest = statement->getArray("rest")->getObject(0);
  EXPECT_EQ(rest->getValue<std::string>("mode"), "server");
  auto resources = rest->getArray("resource");
  ASSERT_EQ(resources->size(), 2u);
  std::vector<std::string> types;
  for (std::size_t i = 0; i < resources->size(); ++i) {
    auto r = resources->getObject(i);
    types.push_back(r->getValue<std::string>("type"));
    auto interactions = r->getArray("interaction");
    std::vector<std::string> codes;
    for (std::size_t k = 0; k < interactions->size(); ++k) {
      codes.push_back(interactions->getObject(k)->getValue<std::string>("code"));
      EXPECT_FALSE(interactions->getObject(k)->getValue<std::string>("documentation").empty());
    }
    EXPECT_EQ(codes, (std::vector<std::string>{"read", "vread", "search-type", "update", "delete", "create"}));
    // The write API (role local): versions, history, create on PUT, conditional create and update.
    EXPECT_EQ(r->getValue<std::string>("versioning"), "versioned-update");
    EXPECT_TRUE(r->getValue<bool>("readHistory"));
    EXPECT_TRUE(r->getValue<bool>("updateCreate"));
    EXPECT_TRUE(r->getValue<bool>("conditionalCreate"));
    EXPECT_TRUE(r->getValue<bool>("conditionalUpdate"));
    EXPECT_EQ(r->getValue<std::string>("conditionalDelete"), "not-supported");
  }
  // Transaction and batch Bundles at the base (POST /fhir).
  auto restInteractions = rest->getArray("interaction");
  ASSERT_FALSE(restInteractions.isNull());
  ASSERT_EQ(restInteractions->size(), 2u);
  EXPECT_EQ(restInteractions->getObject(0)->getValue<std::string>("code"), "transaction");
  EXPECT_EQ(restInteractions->getObject(1)->getValue<std::string>("code"), "batch");
  EXPECT_EQ(types, (std::vector<std::string>{"Observation", "Patient"}));
  // Search parameters are declared exactly as the parser accepts them: Observation by patient.
  auto params = resources->getObject(0)->getArray("searchParam");
  ASSERT_FALSE(params.isNull());
  bool patient = false;
  for (std::size_t i = 0; i < params->size(); ++i) patient |= params->getObject(i)->getValue<std::string>("name") == "patient";
  EXPECT_TRUE(patient);
  // Built once: every call gets the same statement.
  EXPECT_EQ(handler.handle(HttpCall{}).body, reply.body);
}

TEST(CapabilityStatement, NoServedTypesMeansNoEmptyResourceArray) {
  CapabilityStatementHandler handler(NodeDescription{"node-b", "urn:oid:1.2", "0.1.0", {}});
  auto rest = parse(handler.handle(HttpCall{}).body)->getArray("rest")->getObject(0);
  EXPECT_FALSE(rest->has("resource"));
  EXPECT_EQ(rest->getValue<std::string>("mode"), "server");
}

}  // namespace
}  // namespace hie::exchange

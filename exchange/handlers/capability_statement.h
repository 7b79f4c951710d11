// GET /fhir/metadata: the node's FHIR R4 CapabilityStatement.
#pragma once

#include <string>
#include <vector>

#include "exchange/http/http_call.h"

namespace hie::exchange {

struct NodeDescription {
  std::string nodeId;
  std::string organization;          // the operating organization's identifier
  std::string softwareVersion;
  std::vector<std::string> resourceTypes;  // types the read API serves (may be empty)
};

// The statement is built once; the handler only copies it.
class CapabilityStatementHandler {
 public:
  explicit CapabilityStatementHandler(const NodeDescription& node);
  HttpReply handle(const HttpCall& call) const;

 private:
  std::string body_;
};

}  // namespace hie::exchange

#include "exchange/http/reply_signer.h"

#include <ctime>

#include <spdlog/spdlog.h>

#include "exchange/http/request_signature.h"

namespace hie::exchange {

ReplySigner::ReplySigner(std::shared_ptr<const auth::MessageSigningKey> key) : key_(std::move(key)) {}

void ReplySigner::useKey(std::shared_ptr<const auth::MessageSigningKey> key) {
  std::lock_guard<std::mutex> lock(mutex_);
  key_ = std::move(key);
}

std::shared_ptr<const auth::MessageSigningKey> ReplySigner::key() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return key_;
}

std::optional<auth::SignatureEvidence> ReplySigner::sign(const HttpCall& call, HttpReply& reply,
                                                         const auth::SignatureEvidence* requestSignature) const {
  const auto signingKey = key();
  if (!signingKey) return std::nullopt;
  auth::HttpMessage response;
  response.status = reply.status;
  response.fields.emplace_back("X-Request-Id", call.requestId);
  auto signedFields = auth::signResponse(*signingKey, response, reply.body, requestMessage(call), requestSignature,
                                         static_cast<std::int64_t>(std::time(nullptr)));
  if (!signedFields) {
    spdlog::error("request id={} cannot sign the answer: {}", call.requestId, signedFields.error().internal);
    return std::nullopt;
  }
  for (auto& field : signedFields->fields) reply.headers.push_back(std::move(field));
  return std::move(signedFields->evidence);
}

}  // namespace hie::exchange

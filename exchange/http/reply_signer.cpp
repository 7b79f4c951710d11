#include "exchange/http/reply_signer.h"

#include <algorithm>
#include <ctime>

#include <spdlog/spdlog.h>

#include "exchange/http/request_signature.h"

namespace hie::exchange {

ReplySigner::ReplySigner(std::shared_ptr<const auth::MessageSigningKey> key) { addKey(std::move(key)); }

void ReplySigner::addKey(std::shared_ptr<const auth::MessageSigningKey> key) {
  if (!key) return;
  std::lock_guard<std::mutex> lock(mutex_);
  keys_.erase(std::remove_if(keys_.begin(), keys_.end(), [&](const auto& k) { return k->keyId() == key->keyId(); }),
              keys_.end());
  keys_.push_front(std::move(key));
  if (keys_.size() > kKeptKeys) keys_.pop_back();
}

std::shared_ptr<const auth::MessageSigningKey> ReplySigner::keyFor(const std::string& certSha256) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (keys_.empty()) return nullptr;
  if (certSha256.empty()) return keys_.front();
  for (const auto& k : keys_) {
    if (k->keyId() == certSha256) return k;
  }
  return nullptr;
}

std::optional<auth::SignatureEvidence> ReplySigner::sign(const std::string& certSha256, const HttpCall& call,
                                                         HttpReply& reply,
                                                         const auth::SignatureEvidence* requestSignature) const {
  const auto signingKey = keyFor(certSha256);
  if (!signingKey) return std::nullopt;
  auth::HttpMessage response;
  response.status = reply.status;
  response.fields.emplace_back("X-Request-Id", call.requestId);
  // The request is read only for the components it covers ("signature";req): not copied for an unsigned one.
  const auth::HttpMessage request = requestSignature != nullptr ? requestMessage(call) : auth::HttpMessage{};
  auto signedFields = auth::signResponse(*signingKey, response, reply.body, request, requestSignature,
                                         static_cast<std::int64_t>(std::time(nullptr)));
  if (!signedFields) {
    spdlog::error("request id={} cannot sign the answer: {}", call.requestId, signedFields.error().internal);
    return std::nullopt;
  }
  for (auto& field : signedFields->fields) reply.headers.push_back(std::move(field));
  return std::move(signedFields->evidence);
}

}  // namespace hie::exchange

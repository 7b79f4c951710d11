#include "exchange/peers/witness_submitter.h"

#include <algorithm>
#include <optional>
#include <vector>

#include <spdlog/spdlog.h>

#include "audit/add_checkpoint.h"
#include "audit/signed_note.h"
#include "audit/witness_policy.h"
#include "exchange/handlers/witness_api.h"
#include "exchange/http/request_id.h"

namespace hie::exchange {

using Clock = std::chrono::steady_clock;

struct WitnessSubmitter::Witness {
  const auth::PeerEntry& peer;
  audit::note::VerifierKey key;
};

WitnessSubmitter::WitnessSubmitter(audit::WitnessedLog& log, const auth::OrganizationDirectory& directory,
                                   PeerPoster& client, audit::AuditSink& audit, Counters& counters,
                                   WitnessSubmitterOptions options)
    : log_(log), directory_(directory), client_(client), audit_(audit), counters_(counters), options_(std::move(options)) {}

WitnessSubmitter::~WitnessSubmitter() { stop(); }

void WitnessSubmitter::start() {
  thread_ = std::thread([this] {
    while (true) {
      runRound();
      std::unique_lock<std::mutex> lock(mutex_);
      if (wake_.wait_for(lock, options_.interval, [this] { return stop_; })) return;
    }
  });
}

void WitnessSubmitter::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool WitnessSubmitter::stopping() {
  std::lock_guard<std::mutex> lock(mutex_);
  return stop_;
}

WitnessRound WitnessSubmitter::runRound() {
  WitnessRound round;
  counters_.witnessRounds.inc();
  auto latest = log_.latestCheckpoint(options_.origin);
  if (!latest) {
    spdlog::error("witness submitter: cannot read the newest checkpoint of {}: {}", options_.origin,
                  latest.error().internal);
    return round;
  }
  if (!*latest) return round;  // nothing signed yet
  auto note = audit::note::parse(**latest);
  Result<audit::TreeHead> head = note ? audit::TreeHead::parse(note->text) : Result<audit::TreeHead>(tl::make_unexpected(note.error()));
  if (!head) {
    spdlog::error("witness submitter: the newest stored checkpoint of {} is malformed: {}", options_.origin,
                  head.error().internal);
    return round;
  }
  const auth::OrganizationSnapshot snapshot = directory_.snapshot();
  std::vector<Witness> witnesses;
  for (const auto& peer : snapshot->peers) {
    if (peer.witnessKey.empty() || peer.organization == options_.organization) continue;
    auto key = audit::parseVerifierKeyOfType(peer.witnessKey, audit::note::kCosignatureV1,
                                             "the witness key of " + peer.organization);
    if (!key) {
      spdlog::error("witness submitter: {}", key.error().internal);
      counters_.witnessSubmissions.inc({peer.organization, "bad_witness_key"});
      ++round.failed;
      continue;
    }
    witnesses.push_back(Witness{peer, std::move(*key)});
  }
  // Witnesses that fell behind (one refused a round the others cosigned) are brought to the newest
  // size another witness cosigned, when nothing but witnessing was logged after it: the loop breaker
  // would otherwise keep them apart for good, and no checkpoint would carry both cosignatures.
  std::uint64_t newestCosigned = 0;
  for (const auto& w : witnesses) {
    auto recorded = log_.witnessSize(options_.origin, w.key.name);
    if (recorded && *recorded && **recorded <= head->size) newestCosigned = std::max(newestCosigned, **recorded);
  }
  std::optional<std::string> catchUp;
  if (newestCosigned > 0 && newestCosigned < head->size) {
    auto quiet = log_.onlyWitnessingIn(options_.origin, newestCosigned, head->size);
    if (quiet && *quiet) {
      auto stored = log_.checkpointAt(options_.origin, newestCosigned);
      if (stored && *stored) catchUp = **stored;
    }
  }
  for (const auto& w : witnesses) {
    if (stopping()) break;
    auto recorded = log_.witnessSize(options_.origin, w.key.name);
    if (catchUp && recorded && recorded->value_or(0) < newestCosigned) {
      submitTo(w, *catchUp, newestCosigned, round, /*catchingUp=*/true);
    } else {
      submitTo(w, **latest, head->size, round, /*catchingUp=*/false);
    }
  }
  return round;
}

void WitnessSubmitter::submitTo(const Witness& witness, const std::string& checkpoint, std::uint64_t size,
                                WitnessRound& round, bool catchingUp) {
  const std::string& org = witness.peer.organization;
  const std::string& name = witness.key.name;
  auto failed = [&](const std::string& result, const std::string& detail) {
    counters_.witnessSubmissions.inc({org, result});
    ++round.failed;
    if (!stopping()) spdlog::warn("witness submitter: witness {} ({}): {}: {}", name, org, result, detail);
  };
  auto alarm = [&](const std::string& reason, const std::string& detail) {
    counters_.witnessAlarms.inc({org, reason});
    counters_.witnessSubmissions.inc({org, reason});
    ++round.alarms;
    ++round.failed;
    spdlog::error("witness alarm: witness {} ({}) for log {}: {}: {}", name, org, options_.origin, reason, detail);
  };

  auto recorded = log_.witnessSize(options_.origin, name);
  if (!recorded) return failed("store_error", recorded.error().internal);
  std::uint64_t old = recorded->value_or(0);
  if (old == size) {
    ++round.skipped;
    return;
  }
  if (old > size) {
    return alarm("witness_ahead", "it cosigned size " + std::to_string(old) + ", this log's newest checkpoint is " +
                                      std::to_string(size));
  }
  auto onlyWitnessing = log_.onlyWitnessingIn(options_.origin, old, size);
  if (!onlyWitnessing) return failed("store_error", onlyWitnessing.error().internal);
  if (*onlyWitnessing && !catchingUp) {
    ++round.skipped;  // the loop breaker: nothing but witnessing since its last cosignature
    return;
  }

  auto note = audit::note::parse(checkpoint);
  if (!note) return failed("store_error", note.error().internal);
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto proof = log_.consistencyProof(options_.origin, old, size);
    if (!proof) {
      if (attempt > 0) {
        return alarm("unprovable_size", "it last cosigned size " + std::to_string(old) +
                                            ", from which this log cannot prove consistency: " + proof.error().internal);
      }
      return failed("store_error", proof.error().internal);
    }
    const std::string requestId = newRequestId();
    const auto started = Clock::now();
    auto response = client_.post(witness.peer, kAddCheckpointPath, audit::addCheckpointBody(old, *proof, checkpoint),
                                 "text/plain; charset=utf-8", {{"X-Request-Id", requestId}}, started + options_.timeout);

    audit::AuditEvent e;
    e.eventType = "rest";
    e.action = audit::kWitnessSubmitAction;
    e.outcome = "error";
    e.organization = options_.organization;
    e.peerOrganization = org;
    e.method = "POST";
    e.path = kAddCheckpointPath;
    e.authentication = "mtls";  // witnessing is mutual TLS alone, never a UDAP token
    e.requestId = requestId;
    e.latencyMicros = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count();
    if (response) e.httpStatus = response->status;
    recordSignatures(response ? response->signatures : response.error().signatures, e);
    // The result of this call: its audit reason and counter label ("" = cosigned).
    std::string result;
    std::string detail;
    std::optional<std::uint64_t> witnessSize;
    if (!response) {
      result = response.error().reason;
      detail = response.error().detail;
    } else if (response->status == 200) {
      auto lines = audit::note::parseSignatureLines(response->body);
      std::vector<std::string> valid;
      if (!lines) {
        result = "invalid_response";
        detail = lines.error().internal;
      } else {
        for (const auto& line : *lines) {
          if (line.name != witness.key.name || line.keyId != witness.key.id) continue;  // unknown keys are ignored
          std::uint64_t timestamp = 0;
          if (!audit::note::verifyCosignature(note->text, line, witness.key, timestamp)) {
            result = "bad_cosignature";
            detail = "a cosignature of its key does not verify";
            break;
          }
          valid.push_back(line.line);
        }
        if (result.empty() && valid.empty()) {
          result = "no_cosignature";
          detail = "the answer holds no cosignature of its key";
        }
      }
      if (result.empty()) {
        auto stored = log_.addCosignatures(options_.origin, size, name, valid);
        if (!stored) {
          result = "store_error";
          detail = stored.error().internal;
        }
      }
    } else if (response->status == 409) {
      const std::string type = response->contentType.substr(0, response->contentType.find(';'));
      auto told = audit::parseTlogSize(response->body);
      if (type != audit::kTlogSizeContentType || !told) {
        result = "invalid_response";
        detail = "a 409 answer that is not a text/x.tlog.size of '<size>\\n'";
      } else {
        result = "conflict";
        detail = "it last cosigned size " + std::to_string(*told);
        witnessSize = *told;
      }
    } else {
      result = response->status == 422 ? "inconsistent" : "http_" + std::to_string(response->status);
      detail = "answered HTTP " + std::to_string(response->status);
    }
    if (result.empty()) e.outcome = "success";
    else e.outcomeReason = result == "conflict" || result == "inconsistent" ? "http_" + std::to_string(e.httpStatus) : result;
    audit_.recordAsync(e);

    if (result.empty()) {
      counters_.witnessSubmissions.inc({org, "cosigned"});
      ++round.cosigned;
      return;
    }
    if (result == "inconsistent") {
      return alarm("inconsistent", "it refused the checkpoint of size " + std::to_string(size) + " from size " +
                                       std::to_string(old) + " as inconsistent with what it cosigned (HTTP 422)");
    }
    if (!witnessSize) return failed(result, detail);
    if (*witnessSize > size) {
      return alarm("witness_ahead", "it cosigned size " + std::to_string(*witnessSize) +
                                        ", larger than this log's newest checkpoint " + std::to_string(size));
    }
    if (auto set = log_.setWitnessSize(options_.origin, name, *witnessSize); !set) {
      return failed("store_error", set.error().internal);
    }
    counters_.witnessSubmissions.inc({org, "conflict"});
    if (attempt > 0) {
      ++round.failed;
      if (!stopping()) spdlog::warn("witness submitter: witness {} ({}): conflict again: {}", name, org, detail);
      return;
    }
    old = *witnessSize;  // once more, from the size it names
  }
}

}  // namespace hie::exchange

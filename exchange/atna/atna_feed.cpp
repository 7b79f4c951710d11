#include "exchange/atna/atna_feed.h"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace hie::exchange {

std::string atnaRepositoryKey(const std::string& host, int port) {
  std::string name = host;
  for (char& c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (name.find(':') != std::string::npos && name.front() != '[') name = "[" + name + "]";
  return name + ":" + std::to_string(port);
}

AtnaFeed::AtnaFeed(AtnaCursorStore& store, SyslogTransport& transport, Counters& counters, AtnaFeedOptions options)
    : store_(store), transport_(transport), counters_(counters), options_(std::move(options)) {}

AtnaFeed::~AtnaFeed() { stop(); }

void AtnaFeed::start() {
  thread_ = std::thread([this] { run(); });
}

void AtnaFeed::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) transport_.cancel();
  if (thread_.joinable()) thread_.join();
}

bool AtnaFeed::waitFor(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mutex_);
  return !wake_.wait_for(lock, d, [this] { return stop_; });
}

void AtnaFeed::measureBacklog() {
  lastMeasured_ = std::chrono::steady_clock::now();
  auto backlog = store_.backlog(options_.repository);
  if (!backlog) return;  // the value stays, and its timestamp ages
  backlog_ = static_cast<std::int64_t>(*backlog);
  backlogMeasuredAt_ = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void AtnaFeed::run() {
  std::chrono::milliseconds retry = options_.retryMin;
  measureBacklog();  // before the first batch, which can take a connect timeout
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stop_) return;
    }
    const AtnaRound round = runRound();
    measureBacklog();
    if (!round.failed) {
      retry = options_.retryMin;
      if (round.sent == 0 && !waitFor(options_.idlePoll)) return;
      continue;
    }
    // Backoff, measuring the backlog as it grows (the gauge is what an operator watches).
    spdlog::warn("atna: delivery to {} failed; retrying in {} ms", options_.repository, retry.count());
    auto left = retry;
    while (left.count() > 0) {
      const auto step = std::min(left, options_.idlePoll);
      if (!waitFor(step)) return;
      left -= step;
      measureBacklog();
    }
    retry = std::min(retry * 2, options_.retryMax);
  }
}

std::size_t AtnaFeed::deliver(const std::string& origin, const std::vector<FeedLeaf>& leaves, bool& failed) {
  std::vector<std::string> frames;
  frames.reserve(leaves.size());
  for (const auto& leaf : leaves) {
    const audit::TrailEntry entry = audit::TrailEntry::fromLeaf(origin, static_cast<std::int64_t>(leaf.index), leaf.leaf);
    auto body = audit::atnaBody(entry, options_.format);
    if (!body) {
      // Never for a leaf the node wrote; the leaf itself goes instead, so that nothing is skipped.
      counters_.atnaFailures.inc({"render"});
      spdlog::error("atna: {} cannot be rendered ({}); sending the leaf text as the body", entry.name(),
                    body.error().internal);
    }
    // Unrendered, it is marked as such (MSGID "-", format="leaf"): no receiver takes it for its format.
    std::string message = audit::syslogMessage(entry, body ? options_.format : audit::AtnaFormat::kLeaf,
                                               options_.syslogOrigin, body ? *body : leaf.leaf);
    if (message.size() > options_.maxMessageBytes) {
      counters_.atnaOversize.inc();
      spdlog::warn("atna: {} is {} bytes, over atna.maxMessageBytes ({}); sent whole, the repository may cut it",
                   entry.name(), message.size(), options_.maxMessageBytes);
    }
    frames.push_back(audit::octetCountedFrame(message));
  }
  auto delivered = transport_.deliver(frames);
  if (!delivered) {
    failed = true;
    counters_.atnaFailures.inc({"transport"});
    spdlog::warn("atna: {} messages of {} from #{} not delivered to {}: {}", frames.size(), origin,
                 leaves.empty() ? 0 : leaves.front().index, options_.repository, delivered.error().internal);
    return 0;
  }
  counters_.atnaMessagesSent.inc(frames.size());
  return frames.size();
}

AtnaRound AtnaFeed::runRound() {
  AtnaRound round;
  auto origins = store_.origins();
  if (!origins) {
    counters_.atnaFailures.inc({"database"});
    spdlog::warn("atna: cannot list the audit logs: {}", origins.error().internal);
    round.failed = true;
    return round;
  }
  for (const auto& origin : *origins) {
    while (true) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stop_) return round;
      }
      bool failed = false;
      auto batch = store_.sendNext(options_.repository, origin, options_.batchSize,
                                   [&](const std::vector<FeedLeaf>& leaves) { return deliver(origin, leaves, failed); });
      if (!batch) {
        counters_.atnaFailures.inc({"database"});
        spdlog::warn("atna: cursor of {} for {}: {}", origin, options_.repository, batch.error().internal);
        round.failed = true;
        return round;
      }
      round.sent += batch->delivered;
      if (batch->gap && gapsReported_.insert({origin, batch->missingIndex}).second) {
        counters_.atnaFailures.inc({"gap"});
        spdlog::error("atna: leaf #{} of {} is committed (below a signed checkpoint) but not stored: the feed of this "
                      "log to {} stops before it; run `hie-node audit verify`",
                      batch->missingIndex, origin, options_.repository);
      }
      // A catch-up can last long (a new repository gets the whole history): the gauge follows it.
      if (std::chrono::steady_clock::now() - lastMeasured_ >= options_.idlePoll) measureBacklog();
      if (failed) {
        round.failed = true;
        return round;
      }
      // Caught up, or another process is sending this log now.
      if (!batch->held || batch->read < options_.batchSize) break;
    }
  }
  return round;
}

}  // namespace hie::exchange

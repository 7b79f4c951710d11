// The /metrics counter text: the typed registry renders exactly what the
// string-named counters rendered before (golden text below, captured from the
// old renderer with the same events), escaping label values, ordering
// families by name and series by label values, leaving out what never counted.
#include <gtest/gtest.h>

#include "common/counters.h"
#include "exchange/http/prometheus_text.h"

namespace hie::exchange {
namespace {

// One event at every kind of call site, with label values that need escaping.
void countOneOfEverything(Counters& c) {
  const std::string weird = "urn:oid:9.9\"q\\b\nx";
  c.tlsReloadFailures.inc();
  c.tlsReloads.inc(2);
  c.tlsSessionCacheFlushes.inc(2);
  c.tlsSessionsResumed.inc(3);
  c.tlsHandshakeFailures.inc({"unknown_issuer"}, 2);
  c.tlsHandshakeFailures.inc({"handshake_timeout"});
  c.tlsHandshakeFailures.inc({"chain_too_long"});
  c.refusals.inc({"certificate", "certificate_expired"});
  c.refusals.inc({"protocol", "uri_too_long"});
  c.refusals.inc({"audit", "audit_unavailable"});
  c.refusals.inc({"identity", "unknown_organization"});
  c.refusals.inc({"request", "no_grant"});
  c.refusals.inc({"request", "missing_purpose"});
  c.requests.inc({"success", "urn:oid:2.16.1"});
  c.requests.inc({"denied", "none"});
  c.requests.inc({"error", weird});
  c.requests.inc({"success", "urn:oid:1.2"}, 4);
  c.requests.inc({"denied", "urn:oid:2.16.1"});
  c.peerCalls.inc({"urn:oid:2.16.1"});
  c.peerCallMicros.inc({"urn:oid:2.16.1"}, 1234);
  c.peerCalls.inc({weird});
  c.peerCallMicros.inc({weird}, 0);
  c.peerCallsFailed.inc({weird});
  c.peerBusy.inc();
  c.peerTimeouts.inc();
  c.peerCallFailures.inc({"failures", "timeout"});
  c.peerCallFailures.inc({"failures", "connect"}, 2);
  c.peerCallFailures.inc({"refused", "impersonation"});
  c.peerCallFailures.inc({"refused", "hostname_mismatch"});
  c.auditRefusedBacklogFull.inc();
  c.auditCommitTimeouts.inc();
  c.auditDroppedAsync.inc(5);
  c.auditSignMicros.inc(0);
  c.auditStoreMicros.inc(77);
  c.auditCommitsConfirmedAfterError.inc();
  c.auditCommitFailures.inc();
  c.auditEntriesCommitted.inc(10);
  c.auditBatchesCommitted.inc(3);
  c.auditCheckpoints.inc();
  c.ocspCacheHits.inc();
  c.ocspUnavailable.inc();
  c.ocspBadResponses.inc();
  c.ocspAnswersGood.inc();
  c.ocspAnswersRevoked.inc();
  c.ocspAnswersUnknown.inc();
}

// What the string-named counters rendered for the same events (commit 3c5af60).
const char* const kGolden = R"txt(
# TYPE hie_audit_batches_committed_total counter
hie_audit_batches_committed_total 3
# TYPE hie_audit_checkpoints_total counter
hie_audit_checkpoints_total 1
# TYPE hie_audit_commit_failures_total counter
hie_audit_commit_failures_total 1
# TYPE hie_audit_commit_timeouts_total counter
hie_audit_commit_timeouts_total 1
# TYPE hie_audit_commits_confirmed_after_error_total counter
hie_audit_commits_confirmed_after_error_total 1
# TYPE hie_audit_dropped_async_total counter
hie_audit_dropped_async_total 5
# TYPE hie_audit_entries_committed_total counter
hie_audit_entries_committed_total 10
# TYPE hie_audit_refused_backlog_full_total counter
hie_audit_refused_backlog_full_total 1
# TYPE hie_audit_sign_micros_total counter
hie_audit_sign_micros_total 0
# TYPE hie_audit_store_micros_total counter
hie_audit_store_micros_total 77
# TYPE hie_ocsp_answers_good_total counter
hie_ocsp_answers_good_total 1
# TYPE hie_ocsp_answers_revoked_total counter
hie_ocsp_answers_revoked_total 1
# TYPE hie_ocsp_answers_unknown_total counter
hie_ocsp_answers_unknown_total 1
# TYPE hie_ocsp_bad_responses_total counter
hie_ocsp_bad_responses_total 1
# TYPE hie_ocsp_cache_hits_total counter
hie_ocsp_cache_hits_total 1
# TYPE hie_ocsp_unavailable_total counter
hie_ocsp_unavailable_total 1
# TYPE hie_peer_busy_total counter
hie_peer_busy_total 1
# TYPE hie_peer_call_duration_microseconds_total counter
hie_peer_call_duration_microseconds_total{peer="urn:oid:2.16.1"} 1234
hie_peer_call_duration_microseconds_total{peer="urn:oid:9.9\"q\\b\nx"} 0
# TYPE hie_peer_call_failures_total counter
hie_peer_call_failures_total{kind="failures",reason="connect"} 2
hie_peer_call_failures_total{kind="failures",reason="timeout"} 1
hie_peer_call_failures_total{kind="refused",reason="hostname_mismatch"} 1
hie_peer_call_failures_total{kind="refused",reason="impersonation"} 1
# TYPE hie_peer_calls_failed_total counter
hie_peer_calls_failed_total{peer="urn:oid:9.9\"q\\b\nx"} 1
# TYPE hie_peer_calls_total counter
hie_peer_calls_total{peer="urn:oid:2.16.1"} 1
hie_peer_calls_total{peer="urn:oid:9.9\"q\\b\nx"} 1
# TYPE hie_peer_timeouts_total counter
hie_peer_timeouts_total 1
# TYPE hie_refusals_total counter
hie_refusals_total{stage="audit",reason="audit_unavailable"} 1
hie_refusals_total{stage="certificate",reason="certificate_expired"} 1
hie_refusals_total{stage="identity",reason="unknown_organization"} 1
hie_refusals_total{stage="protocol",reason="uri_too_long"} 1
hie_refusals_total{stage="request",reason="missing_purpose"} 1
hie_refusals_total{stage="request",reason="no_grant"} 1
# TYPE hie_requests_total counter
hie_requests_total{outcome="denied",organization="none"} 1
hie_requests_total{outcome="denied",organization="urn:oid:2.16.1"} 1
hie_requests_total{outcome="error",organization="urn:oid:9.9\"q\\b\nx"} 1
hie_requests_total{outcome="success",organization="urn:oid:1.2"} 4
hie_requests_total{outcome="success",organization="urn:oid:2.16.1"} 1
# TYPE hie_tls_handshake_failures_total counter
hie_tls_handshake_failures_total{reason="chain_too_long"} 1
hie_tls_handshake_failures_total{reason="handshake_timeout"} 1
hie_tls_handshake_failures_total{reason="unknown_issuer"} 2
# TYPE hie_tls_reload_failures_total counter
hie_tls_reload_failures_total 1
# TYPE hie_tls_reloads_total counter
hie_tls_reloads_total 2
# TYPE hie_tls_session_cache_flushes_total counter
hie_tls_session_cache_flushes_total 2
# TYPE hie_tls_sessions_resumed_total counter
hie_tls_sessions_resumed_total 3
)txt";

TEST(PrometheusCounters, RendersEverySeriesAsTheStringCountersDid) {
  Counters counters;
  countOneOfEverything(counters);
  EXPECT_EQ("\n" + prometheusCounters(counters), kGolden);
}

TEST(PrometheusCounters, NothingCountedRendersNothing) {
  Counters counters;
  EXPECT_EQ(prometheusCounters(counters), "");
}

TEST(PrometheusCounters, AFamilyAppearsFromItsFirstEventEvenByZero) {
  Counters counters;
  counters.auditSignMicros.inc(0);
  counters.peerCallMicros.inc({"urn:oid:1"}, 0);
  EXPECT_EQ(prometheusCounters(counters),
            "# TYPE hie_audit_sign_micros_total counter\nhie_audit_sign_micros_total 0\n"
            "# TYPE hie_peer_call_duration_microseconds_total counter\n"
            "hie_peer_call_duration_microseconds_total{peer=\"urn:oid:1\"} 0\n");
}

struct ZooCounters : CounterRegistry {
  LabeledCounter<2> zebra{*this, "zoo_zebra_total", "Declared first, rendered last.", {"kind", "name"}};
  Counter ant{*this, "zoo_ant_total", "Declared second, rendered first."};
  Counter mole{*this, "zoo_mole_total", "Never counted."};
};

TEST(PrometheusCounters, OrdersFamiliesByNameAndSeriesByLabelValues) {
  ZooCounters zoo;
  zoo.zebra.inc({"b", "a"});
  zoo.zebra.inc({"a", "z"});
  zoo.zebra.inc({"a", "b"}, 7);
  zoo.ant.inc();
  EXPECT_EQ(prometheusCounters(zoo),
            "# TYPE zoo_ant_total counter\nzoo_ant_total 1\n"
            "# TYPE zoo_zebra_total counter\n"
            "zoo_zebra_total{kind=\"a\",name=\"b\"} 7\n"
            "zoo_zebra_total{kind=\"a\",name=\"z\"} 1\n"
            "zoo_zebra_total{kind=\"b\",name=\"a\"} 1\n");
}

TEST(PrometheusLabelValue, EscapesBackslashQuoteAndNewlineOnly) {
  EXPECT_EQ(prometheusLabelValue("plain urn:oid:1.2.3"), "plain urn:oid:1.2.3");
  EXPECT_EQ(prometheusLabelValue("a\\b\"c\nd\te"), "a\\\\b\\\"c\\nd\te");
  EXPECT_EQ(prometheusLabelValue(""), "");
  ZooCounters zoo;
  zoo.zebra.inc({"}\"", "\\\n"});
  EXPECT_EQ(prometheusCounters(zoo),
            "# TYPE zoo_zebra_total counter\nzoo_zebra_total{kind=\"}\\\"\",name=\"\\\\\\n\"} 1\n");
}

}  // namespace
}  // namespace hie::exchange

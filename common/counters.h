// The node's counters, each declared once: Prometheus name, help text, label
// names. Call sites name the family and give the label values, e.g.
// counters.refusals.inc({"identity", reason}). Owned by the app; thread-safe.
// docs/operations.md (Metrics) lists them; keep the two in step.
#pragma once

#include "common/counter.h"

namespace hie {

struct Counters : CounterRegistry {
  // The request path.
  LabeledCounter<2> requests{*this, "hie_requests_total",
                             "HTTP requests answered, by audit outcome and admitted organization (none if none).",
                             {"outcome", "organization"}};
  LabeledCounter<2> refusals{*this, "hie_refusals_total",
                             "Refused requests, by stage (certificate, identity, request, protocol, audit) and reason.",
                             {"stage", "reason"}};

  LabeledCounter<1> requestSignatureChecks{
      *this, "hie_request_signature_checks_total",
      "Signature checks of admitted requests, by outcome (verified, absent, off, or the refusal reason).",
      {"outcome"}};
  LabeledCounter<1> bearerChecks{
      *this, "hie_bearer_checks_total",
      "Bearer checks of admitted requests, by outcome (none, accepted, or the refusal reason).", {"outcome"}};

  // Inbound TLS.
  LabeledCounter<1> tlsHandshakeFailures{*this, "hie_tls_handshake_failures_total",
                                         "Refused handshakes, by the tls_refused reason.", {"reason"}};
  Counter tlsReloads{*this, "hie_tls_reloads_total", "TLS reloads done."};
  Counter tlsReloadFailures{*this, "hie_tls_reload_failures_total", "TLS reloads refused."};
  Counter tlsSessionsResumed{*this, "hie_tls_sessions_resumed_total", "Inbound handshakes that resumed a session."};
  Counter tlsSessionCacheFlushes{*this, "hie_tls_session_cache_flushes_total", "Flushes of the TLS session cache."};

  // Outbound calls to peers.
  LabeledCounter<1> peerCalls{*this, "hie_peer_calls_total", "/exchange calls to each peer.", {"peer"}};
  LabeledCounter<1> peerCallsFailed{*this, "hie_peer_calls_failed_total",
                                    "/exchange calls to each peer that did not succeed.", {"peer"}};
  LabeledCounter<1> peerCallMicros{*this, "hie_peer_call_duration_microseconds_total",
                                   "Summed duration of the /exchange calls to each peer, in microseconds.", {"peer"}};
  LabeledCounter<2> peerCallFailures{*this, "hie_peer_call_failures_total",
                                     "Outbound failures: refused peer certificates, and failed attempts.",
                                     {"kind", "reason"}};
  Counter peerTimeouts{*this, "hie_peer_timeouts_total", "Attempts not started because the deadline had passed."};
  Counter peerBusy{*this, "hie_peer_busy_total", "/exchange calls not made because no worker became free in time."};

  // The audit writer.
  Counter auditEntriesCommitted{*this, "hie_audit_entries_committed_total", "Audit entries committed."};
  Counter auditBatchesCommitted{*this, "hie_audit_batches_committed_total", "Audit group commits."};
  Counter auditSignMicros{*this, "hie_audit_sign_micros_total",
                          "Time spent encoding, hashing and signing batches (leaves and checkpoint), in microseconds."};
  Counter auditStoreMicros{*this, "hie_audit_store_micros_total", "Time spent storing batches, in microseconds."};
  Counter auditCheckpoints{*this, "hie_audit_checkpoints_total", "Checkpoints signed and stored."};
  Counter auditSequencingConflicts{*this, "hie_audit_sequencing_conflicts_total",
                                   "Batches retried because another writer appended to the log first."};
  Counter auditCommitFailures{*this, "hie_audit_commit_failures_total", "Failed group commits."};
  Counter auditCommitsConfirmedAfterError{*this, "hie_audit_commits_confirmed_after_error_total",
                                          "Group commits that reported an error but were found stored."};
  Counter auditCommitTimeouts{*this, "hie_audit_commit_timeouts_total",
                              "Requests answered 503 because their entry was not committed in time."};
  Counter auditRefusedBacklogFull{*this, "hie_audit_refused_backlog_full_total",
                                  "Requests refused because the audit queue was full."};
  Counter auditDroppedAsync{*this, "hie_audit_dropped_async_total", "Asynchronous audit events dropped."};

  // Witnessing (docs/api.md, "Witness"): this node as a witness of its peers' logs, and the
  // submitter that asks its peers to cosign this node's checkpoints.
  LabeledCounter<1> witnessRequests{*this, "hie_witness_requests_total",
                                    "add-checkpoint requests this node answered as a witness, by result.", {"result"}};
  Counter witnessRounds{*this, "hie_witness_rounds_total", "Rounds of the witness submitter."};
  LabeledCounter<2> witnessSubmissions{*this, "hie_witness_submissions_total",
                                       "add-checkpoint calls to each witness, by result.", {"peer", "result"}};
  LabeledCounter<2> witnessAlarms{*this, "hie_witness_alarms_total",
                                  "Witnesses whose state contradicts this node's log, by peer and reason.",
                                  {"peer", "reason"}};

  // The ATNA feed (atna.host set): audit entries sent to the audit record repository.
  Counter atnaMessagesSent{*this, "hie_atna_messages_sent_total",
                           "Audit entries delivered to the ATNA audit record repository (again after a failed batch)."};
  LabeledCounter<1> atnaFailures{*this, "hie_atna_failures_total",
                                 "ATNA feed failures, by kind (transport, database, render, gap).", {"kind"}};
  Counter atnaOversize{*this, "hie_atna_oversize_messages_total", "ATNA messages larger than atna.maxMessageBytes."};

  // OCSP (tls.ocsp on).
  Counter ocspAnswersGood{*this, "hie_ocsp_answers_good_total", "OCSP answers that said good."};
  Counter ocspAnswersRevoked{*this, "hie_ocsp_answers_revoked_total", "OCSP answers that said revoked."};
  Counter ocspAnswersUnknown{*this, "hie_ocsp_answers_unknown_total", "OCSP answers that said unknown."};
  Counter ocspCacheHits{*this, "hie_ocsp_cache_hits_total", "OCSP answers taken from the cache."};
  Counter ocspUnavailable{*this, "hie_ocsp_unavailable_total", "OCSP responders unreachable or answering an HTTP error."};
  Counter ocspBadResponses{*this, "hie_ocsp_bad_responses_total", "OCSP answers whose signature did not verify."};
};

}  // namespace hie

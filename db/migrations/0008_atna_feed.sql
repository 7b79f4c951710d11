-- The ATNA feed (docs/operations.md, "ATNA feed"): how far each audit record repository has been
-- sent each log. One row per (repository, origin): next_index is the first leaf index not yet
-- delivered; the sender that holds the row (SELECT ... FOR UPDATE SKIP LOCKED, in the transaction
-- that sends one batch) is the only one sending that log to that repository, so several node
-- processes on one database never both send it; when that process dies its transaction ends and
-- another takes over from the stored cursor (at-least-once: a batch sent but not recorded is sent again).
CREATE TABLE atna_feed_cursors (
  repository  text NOT NULL,           -- atna.host:atna.port as configured
  origin      text NOT NULL,           -- the log's origin (audit_log_leaves.origin)
  next_index  bigint NOT NULL DEFAULT 0 CHECK (next_index >= 0),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (repository, origin)
);

GRANT SELECT, INSERT, UPDATE ON atna_feed_cursors TO hie_runtime;

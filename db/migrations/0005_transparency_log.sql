-- The audit trail as a transparency log (docs/audit-format.md, "Format v2"): one append-only
-- RFC 6962 Merkle tree per log origin, C2SP checkpoints signed once per group commit, the
-- cosignatures witnesses returned, and what this node cosigned as a witness for its peers.

-- A field of a canonical entry (v1 canonical or v2 leaf), read from the signed bytes themselves:
-- the characters of the string value of top-level key up to its first '"'; NULL when the entry
-- has no such string key. In canonical form (a flat object; inside a string every '"' is escaped
-- as \" and nothing else is) the text '"<key>":"' occurs only where that key starts: its second
-- '"' follows a letter, not '\', so it ends a string; the ':' after it makes that string a key;
-- keys hold no quote, so the first '"' opens it. The result is the value itself, or a prefix
-- ending in '\' for a value holding a quote, which no filter value (organization identifiers,
-- FHIR ids, times, outcomes, purpose codes) ever equals.
-- Written so that the planner inlines it (one expression of strict functions, and not declared
-- STRICT, which would forbid the NULLIF), and so that it never counts characters (substr, strpos
-- and length do, in a UTF-8 database): the auditor queries and the indexes below evaluate it for
-- many rows, and this way it costs a small fraction of a call through the SQL function executor.
-- The planner compares the expression indexes below with a query after inlining both: a query
-- that spells audit_leaf_text(<column>, '<key>') as they do matches them.
CREATE FUNCTION audit_leaf_text(leaf text, key text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT split_part(nullif(split_part($1, '"' || $2 || '":"', 2), ''), '"', 1) $$;

CREATE TABLE audit_log_leaves (
  origin          text NOT NULL,
  idx             bigint NOT NULL CHECK (idx >= 0),
  leaf            text NOT NULL,      -- the canonical entry: exactly the bytes hashed (never jsonb)
  leaf_hash       bytea NOT NULL,     -- SHA-256(0x00 || leaf)
  subtree_hashes  bytea NOT NULL,     -- roots of the perfect subtrees this leaf completes, level 1 first, 32 bytes each
  PRIMARY KEY (origin, idx)           -- the sequencer: a second writer of an index fails, never forks the tree
);
-- Auditor queries filter on the signed bytes, not on copies (audit/postgres_audit_reader.cpp): by
-- the entry's time, by patient, by organization, each in time order. A query uses them only when it
-- spells the expression exactly so: audit_leaf_text(leaf, '<key>').
CREATE INDEX audit_log_leaves_time ON audit_log_leaves (audit_leaf_text(leaf, 'time'));
CREATE INDEX audit_log_leaves_patient ON audit_log_leaves (audit_leaf_text(leaf, 'patient'), audit_leaf_text(leaf, 'time'))
  WHERE audit_leaf_text(leaf, 'patient') <> '';
CREATE INDEX audit_log_leaves_organization ON audit_log_leaves (audit_leaf_text(leaf, 'organization'),
                                                              audit_leaf_text(leaf, 'time'));

-- For operators and SQL-minded reviewers: each leaf's fields, read from the signed bytes at query
-- time (nothing here is a stored copy). A leaf that is not JSON (altered) makes a query over it fail.
CREATE VIEW audit_log_entries AS
  SELECT l.origin, l.idx, l.leaf, j ->> 'time' AS time, j ->> 'eventType' AS event_type, j ->> 'action' AS action,
         j ->> 'outcome' AS outcome, j ->> 'outcomeReason' AS outcome_reason, j ->> 'organization' AS organization,
         j ->> 'patient' AS patient, j ->> 'purpose' AS purpose, j ->> 'requestId' AS request_id,
         (j ->> 'breakGlass')::boolean AS break_glass, j ->> 'causedBy' AS caused_by, j ->> 'node' AS node,
         (j ->> 'httpStatus')::int AS http_status, j ->> 'path' AS path
  FROM audit_log_leaves l, LATERAL (SELECT l.leaf::jsonb AS j) f;

-- The v1 chains keep verifying; their queries read the signed canonical text the same way, and the
-- copied columns of audit_entries (0003) decide nothing any more.
CREATE INDEX audit_entries_leaf_time ON audit_entries (audit_leaf_text(canonical, 'time'));
CREATE INDEX audit_entries_leaf_patient ON audit_entries (audit_leaf_text(canonical, 'patient'),
                                                          audit_leaf_text(canonical, 'time'))
  WHERE audit_leaf_text(canonical, 'patient') <> '';
CREATE INDEX audit_entries_leaf_organization ON audit_entries (audit_leaf_text(canonical, 'organization'),
                                                               audit_leaf_text(canonical, 'time'));

CREATE TABLE audit_log_checkpoints (
  origin      text NOT NULL,
  tree_size   bigint NOT NULL CHECK (tree_size >= 0),
  root_hash   bytea NOT NULL,
  note        text NOT NULL,          -- the checkpoint as a signed note, with the log's signature
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (origin, tree_size)
);

CREATE TABLE audit_log_cosignatures (
  origin       text NOT NULL,
  tree_size    bigint NOT NULL,
  witness      text NOT NULL,         -- the witness's key name
  line         text NOT NULL,         -- the signature line it returned, without the newline
  received_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (origin, tree_size, witness, line),
  FOREIGN KEY (origin, tree_size) REFERENCES audit_log_checkpoints (origin, tree_size)
);

-- Which size each witness last cosigned for our log (the old size of the next add-checkpoint).
CREATE TABLE audit_log_witness_sizes (
  origin      text NOT NULL,
  witness     text NOT NULL,
  tree_size   bigint NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (origin, witness)
);

-- This node as a witness: the latest checkpoint it cosigned for each peer's log. Updated in
-- place, but never to a smaller tree (the trigger), and every cosigned checkpoint is kept.
CREATE TABLE witness_checkpoints (
  origin      text PRIMARY KEY,
  tree_size   bigint NOT NULL CHECK (tree_size >= 0),
  root_hash   bytea NOT NULL,
  note        text NOT NULL,          -- the checkpoint as submitted, with the cosignature returned
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE witness_cosigned (
  origin      text NOT NULL,
  tree_size   bigint NOT NULL,
  root_hash   bytea NOT NULL,
  note        text NOT NULL,
  cosigned_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (origin, tree_size)
);

CREATE FUNCTION witness_never_rolls_back() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.origin <> OLD.origin OR NEW.tree_size < OLD.tree_size
     OR (NEW.tree_size = OLD.tree_size AND NEW.root_hash <> OLD.root_hash) THEN
    RAISE EXCEPTION 'a witness never rolls back the checkpoint it cosigned for %', OLD.origin
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER witness_checkpoints_forward BEFORE UPDATE ON witness_checkpoints
  FOR EACH ROW EXECUTE FUNCTION witness_never_rolls_back();

CREATE TRIGGER audit_log_leaves_append_only BEFORE UPDATE OR DELETE ON audit_log_leaves
  FOR EACH ROW EXECUTE FUNCTION audit_is_append_only();
CREATE TRIGGER audit_log_leaves_no_truncate BEFORE TRUNCATE ON audit_log_leaves
  FOR EACH STATEMENT EXECUTE FUNCTION audit_is_append_only();
CREATE TRIGGER audit_log_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_log_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_is_append_only();
CREATE TRIGGER audit_log_checkpoints_no_truncate BEFORE TRUNCATE ON audit_log_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_is_append_only();
CREATE TRIGGER audit_log_cosignatures_append_only BEFORE UPDATE OR DELETE ON audit_log_cosignatures
  FOR EACH ROW EXECUTE FUNCTION audit_is_append_only();
CREATE TRIGGER audit_log_cosignatures_no_truncate BEFORE TRUNCATE ON audit_log_cosignatures
  FOR EACH STATEMENT EXECUTE FUNCTION audit_is_append_only();
CREATE TRIGGER witness_cosigned_append_only BEFORE UPDATE OR DELETE ON witness_cosigned
  FOR EACH ROW EXECUTE FUNCTION audit_is_append_only();
CREATE TRIGGER witness_cosigned_no_truncate BEFORE TRUNCATE ON witness_cosigned
  FOR EACH STATEMENT EXECUTE FUNCTION audit_is_append_only();

-- The peer directory carries each peer's keys as C2SP verifier keys: the key its audit log
-- signs checkpoints with (this node witnesses that log), and its witness key (it cosigns ours).
ALTER TABLE peers ADD COLUMN log_key text, ADD COLUMN witness_key text;

GRANT SELECT ON audit_log_entries TO hie_runtime;
GRANT SELECT, INSERT ON audit_log_leaves, audit_log_checkpoints, audit_log_cosignatures, witness_cosigned TO hie_runtime;
GRANT SELECT, INSERT, UPDATE ON audit_log_witness_sizes, witness_checkpoints TO hie_runtime;

-- Who did what, one row per event (except the high-volume executor events:
-- log batches, progress ticks, checkpoints and archive entries, which the
-- operation log covers). summary is plain words and never holds a secret,
-- a password hash or a reset token hash.
CREATE TABLE audit_events (
    commit_position  bigint NOT NULL,
    prepare_position bigint NOT NULL,
    event_id         uuid NOT NULL,
    stream           text NOT NULL,
    type             text NOT NULL,
    actor_id         text NOT NULL DEFAULT '',
    actor_name       text NOT NULL DEFAULT '',
    correlation_id   uuid,
    causation_id     uuid,
    at               timestamptz NOT NULL,
    summary          text NOT NULL,
    PRIMARY KEY (commit_position, prepare_position)
);
CREATE INDEX audit_events_by_stream ON audit_events (stream, commit_position DESC);
CREATE INDEX audit_events_by_actor ON audit_events (actor_name, commit_position DESC);

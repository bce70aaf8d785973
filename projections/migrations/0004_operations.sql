-- Backups and restores, from the operation-<id> streams (state changes) and
-- the operationlog-<id> streams (progress and heartbeats).
CREATE TABLE operations (
    id                  uuid PRIMARY KEY,
    kind                text NOT NULL,  -- backup | restore
    status              text NOT NULL,  -- pending | running | paused | interrupted | completed | failed | cancelled
    -- For a restore, the source is the connection holding the archive and
    -- the destination the restore target (no id when typed in).
    source_id           uuid,
    source_name         text NOT NULL DEFAULT '',
    source_kind         text NOT NULL DEFAULT '',
    destination_id      uuid,
    destination_name    text NOT NULL DEFAULT '',
    destination_kind    text NOT NULL DEFAULT '',
    backup_id           uuid,           -- restores: the backup restored
    requested_by        text NOT NULL DEFAULT '', -- actor name from the event metadata
    requested_at        timestamptz NOT NULL,
    started_at          timestamptz,    -- first start
    finished_at         timestamptz,
    worker_id           text NOT NULL DEFAULT '',
    attempt             integer NOT NULL DEFAULT 0,
    pause_requested     boolean NOT NULL DEFAULT false,
    cancel_requested    boolean NOT NULL DEFAULT false,
    heartbeat_at        timestamptz,    -- last OperationStarted or OperationProgressed of the current attempt
    progress            jsonb,          -- domain.Progress
    progress_updated_at timestamptz,
    paused_position     text NOT NULL DEFAULT '',
    error               text NOT NULL DEFAULT '',
    error_code          text NOT NULL DEFAULT '',
    stack               text NOT NULL DEFAULT '',
    archive_size        bigint,         -- compressed bytes (completed backups)
    archive_location    text NOT NULL DEFAULT '',
    object_count        bigint,
    total_bytes         bigint,         -- uncompressed bytes of the entries
    result              jsonb,          -- domain.BackupResult
    restore             jsonb,          -- the restore request without any secret
    report              jsonb           -- domain.RestoreReport
);
CREATE INDEX operations_newest ON operations (requested_at DESC, id DESC);
CREATE INDEX operations_by_source ON operations (source_id, requested_at DESC);
CREATE INDEX operations_by_status ON operations (status, requested_at DESC);
CREATE INDEX operations_running_heartbeat ON operations (heartbeat_at) WHERE status = 'running';

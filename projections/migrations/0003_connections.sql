-- Sources and destinations, from the connection-<id> streams. settings holds
-- the non-secret values only; secrets_set says which secret fields hold a
-- value ({"secret_access_key": true}); sealed secrets never come here.
CREATE TABLE connections (
    id                uuid PRIMARY KEY,
    kind              text NOT NULL,
    role              text NOT NULL,  -- source | destination
    service           text NOT NULL,  -- s3 | mongodb | gdrive
    name              text NOT NULL,
    settings          jsonb NOT NULL DEFAULT '{}',
    secrets_set       jsonb NOT NULL DEFAULT '{}',
    status            text NOT NULL DEFAULT 'unchecked', -- unchecked | valid | invalid
    status_reason     text NOT NULL DEFAULT '',
    status_field      text NOT NULL DEFAULT '',
    details           jsonb NOT NULL DEFAULT '{}',
    checked_at        timestamptz,
    token_expiry      timestamptz,
    active_operations integer NOT NULL DEFAULT 0, -- pending, running, paused or interrupted operations using it
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    deleted           boolean NOT NULL DEFAULT false, -- deleted ones are kept for history, hidden from lists
    deleted_at        timestamptz
);
CREATE INDEX connections_live_by_role ON connections (role, name) WHERE NOT deleted;

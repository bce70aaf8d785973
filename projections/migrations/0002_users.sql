-- Administrators, from the user-<id> streams. No password hash and no reset
-- token hash is ever copied here.
CREATE TABLE users (
    id                   uuid PRIMARY KEY,
    email                text NOT NULL,
    name                 text NOT NULL,
    role                 text NOT NULL,
    registered_at        timestamptz NOT NULL,
    last_login_at        timestamptz,
    last_login_ip        text NOT NULL DEFAULT '',
    failed_logins        integer NOT NULL DEFAULT 0, -- since the last successful login
    last_failed_login_at timestamptz,
    password_changed_at  timestamptz
);
CREATE INDEX users_email ON users (email);

-- Everything people send, written here before the platform is told it arrived (before the
-- webhook's 200, before the next getUpdates offset), then applied from here: per sender in
-- the order of `id`. `applied_at` is set in the transaction that applies the event, so an
-- event is applied once; (channel, update_key) keeps a redelivered one from being stored twice.
CREATE TABLE inbox (
    id           INTEGER PRIMARY KEY,
    channel      TEXT NOT NULL,
    update_key   TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    event        TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    applied_at   TEXT,
    UNIQUE (channel, update_key)
);
CREATE INDEX inbox_waiting ON inbox (id) WHERE applied_at IS NULL;
CREATE INDEX inbox_applied ON inbox (applied_at);

-- The update ids applied before the inbox existed still keep their updates from coming back.
INSERT INTO inbox (channel, update_key, user_id, event, received_at, applied_at)
    SELECT channel, update_key, '', '{}', processed_at, processed_at FROM processed_updates;
DROP TABLE processed_updates;

-- The outbox again, now also holding the replies to what people send (a stranger's too, so
-- `person_id` may be empty), and the claim of the sender sending a message: `owner` and
-- `lease_until`; a claim whose lease has run out is void.
CREATE TABLE outbox_v5 (
    id           INTEGER PRIMARY KEY,
    key          TEXT NOT NULL UNIQUE,
    person_id    INTEGER REFERENCES people (id),
    channel      TEXT NOT NULL,
    chat_id      TEXT NOT NULL,
    locale       TEXT NOT NULL,
    replies      TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    not_before   TEXT NOT NULL,
    parts_sent   INTEGER NOT NULL DEFAULT 0,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    sent_at      TEXT,
    failed_at    TEXT,
    owner        TEXT,
    lease_until  TEXT
);
INSERT INTO outbox_v5 (id, key, person_id, channel, chat_id, locale, replies, created_at,
        not_before, parts_sent, attempts, last_error, sent_at, failed_at)
    SELECT id, key, person_id, channel, chat_id, locale, replies, created_at, not_before,
        parts_sent, attempts, last_error, sent_at, failed_at FROM outbox;
CREATE TABLE outbox_files_v5 (
    outbox_id  INTEGER NOT NULL REFERENCES outbox_v5 (id) ON DELETE CASCADE,
    reply      INTEGER NOT NULL,
    position   INTEGER NOT NULL,
    name       TEXT NOT NULL,
    is_image   INTEGER NOT NULL,
    data       BLOB NOT NULL,
    caption    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (outbox_id, reply, position)
);
INSERT INTO outbox_files_v5 (outbox_id, reply, position, name, is_image, data)
    SELECT outbox_id, reply, position, name, is_image, data FROM outbox_files;
DROP TABLE outbox_files;
DROP TABLE outbox;
ALTER TABLE outbox_v5 RENAME TO outbox;
ALTER TABLE outbox_files_v5 RENAME TO outbox_files;
CREATE INDEX outbox_waiting ON outbox (id) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_chat ON outbox (channel, chat_id, id) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_person ON outbox (person_id) WHERE sent_at IS NULL AND failed_at IS NULL;

-- Failed deliveries that do not prove a person unreachable by themselves (Zalo's 403 means
-- "internal error"): since when they have been failing, and how many times.
ALTER TABLE identities ADD COLUMN failing_since TEXT;
ALTER TABLE identities ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;

-- The caption a photo came with.
ALTER TABLE nomination_photos ADD COLUMN caption TEXT NOT NULL DEFAULT '';

-- An invite voided before it was used (its person was revoked).
ALTER TABLE invites ADD COLUMN voided_at TEXT;

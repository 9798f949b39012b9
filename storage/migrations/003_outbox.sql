-- Messages the bot starts on its own (reminders, digests), written here before they are
-- sent so that a crash loses nothing; `key` names what a message is, so it is queued once.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    person_id   INTEGER NOT NULL REFERENCES people (id),
    channel     TEXT NOT NULL,
    chat_id     TEXT NOT NULL,
    locale      TEXT NOT NULL,
    replies     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    not_before  TEXT NOT NULL,
    parts_sent  INTEGER NOT NULL DEFAULT 0,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    sent_at     TEXT,
    failed_at   TEXT
);
CREATE INDEX outbox_waiting ON outbox (not_before, id) WHERE sent_at IS NULL AND failed_at IS NULL;

-- Files attached to queued messages (a workbook, a chart), by reply and position.
CREATE TABLE outbox_files (
    outbox_id  INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    reply      INTEGER NOT NULL,
    position   INTEGER NOT NULL,
    name       TEXT NOT NULL,
    is_image   INTEGER NOT NULL,
    data       BLOB NOT NULL,
    PRIMARY KEY (outbox_id, reply, position)
);

-- When a channel said the person cannot be reached there (Telegram 403: bot blocked).
ALTER TABLE identities ADD COLUMN unreachable_at TEXT;

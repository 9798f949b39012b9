-- People and the channel identities they are reached on.
CREATE TABLE people (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('head', 'secretariat', 'chair', 'admin')),
    village_id  TEXT,
    locale      TEXT NOT NULL DEFAULT 'vi',
    is_console  INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);

CREATE TABLE identities (
    channel       TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    person_id     INTEGER NOT NULL REFERENCES people (id),
    chat_id       TEXT NOT NULL,
    display_name  TEXT NOT NULL DEFAULT '',
    last_seen_at  TEXT NOT NULL,
    PRIMARY KEY (channel, user_id)
);
CREATE INDEX identities_person ON identities (person_id);

CREATE TABLE invites (
    code        TEXT PRIMARY KEY,
    role        TEXT NOT NULL,
    village_id  TEXT,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    used_by     INTEGER REFERENCES people (id)
);

-- Wrong invite codes, for the lock-out.
CREATE TABLE invite_failures (
    channel  TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    at       TEXT NOT NULL
);
CREATE INDEX invite_failures_who ON invite_failures (channel, user_id, at);

-- The open conversation of each person (a report draft, a menu, a confirmation).
CREATE TABLE drafts (
    person_id   INTEGER PRIMARY KEY REFERENCES people (id),
    state       TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- Sent reports: one row per version; answers hold JSON values.
CREATE TABLE reports (
    id            INTEGER PRIMARY KEY,
    village_id    TEXT NOT NULL,
    form_id       TEXT NOT NULL,
    period        TEXT NOT NULL,
    version       INTEGER NOT NULL,
    submitted_at  TEXT NOT NULL,
    submitted_by  INTEGER NOT NULL REFERENCES people (id),
    UNIQUE (village_id, form_id, period, version)
);

CREATE TABLE answers (
    report_id    INTEGER NOT NULL REFERENCES reports (id),
    question_id  TEXT NOT NULL,
    position     INTEGER NOT NULL,
    value        TEXT,
    PRIMARY KEY (report_id, question_id)
);

-- Updates already applied, so a redelivered one is applied once.
CREATE TABLE processed_updates (
    channel       TEXT NOT NULL,
    update_key    TEXT NOT NULL,
    processed_at  TEXT NOT NULL,
    PRIMARY KEY (channel, update_key)
);

-- Small facts the program learns at run time (the Telegram bot's username…).
CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

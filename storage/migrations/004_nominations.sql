-- Files people sent (photos), stored once by their SHA-256.
CREATE TABLE files (
    key         TEXT PRIMARY KEY,
    mime_type   TEXT,
    size        INTEGER NOT NULL,
    data        BLOB NOT NULL,
    created_at  TEXT NOT NULL
);

-- Good-deed nominations; `number` is ĐC-<year>-<seq of that year>.
CREATE TABLE nominations (
    id            INTEGER PRIMARY KEY,
    year          INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    number        TEXT NOT NULL UNIQUE,
    nominator_id  INTEGER NOT NULL REFERENCES people (id),
    nominee       TEXT NOT NULL,
    village_id    TEXT NOT NULL,
    deed          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    status        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (year, seq)
);
CREATE INDEX nominations_nominator ON nominations (nominator_id);
CREATE INDEX nominations_status ON nominations (status);

CREATE TABLE nomination_photos (
    nomination_id  INTEGER NOT NULL REFERENCES nominations (id),
    position       INTEGER NOT NULL,
    file_key       TEXT NOT NULL REFERENCES files (key),
    PRIMARY KEY (nomination_id, position)
);

-- Every change of a nomination: who, when, the status after it, their comment.
CREATE TABLE nomination_events (
    id             INTEGER PRIMARY KEY,
    nomination_id  INTEGER NOT NULL REFERENCES nominations (id),
    at             TEXT NOT NULL,
    person_id      INTEGER REFERENCES people (id),
    action         TEXT NOT NULL,
    status         TEXT NOT NULL,
    comment        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX nomination_events_nomination ON nomination_events (nomination_id, id);
CREATE INDEX nomination_events_at ON nomination_events (at);

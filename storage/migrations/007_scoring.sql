-- People may now be commune officers ('officer': they fill the commune's own forms and the
-- villages' baseline forms). SQLite cannot change a CHECK in place, so the table is rebuilt
-- the way SQLite documents it: foreign keys are off while migrations run (see migrate()),
-- the new table takes every row with its id, the old one is dropped and the new one renamed,
-- and `PRAGMA foreign_key_check` must find nothing before the migration commits. The tables
-- that refer to people(id) keep referring to it by name, so they point at the new table.
CREATE TABLE people_v7 (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL
                CHECK (role IN ('head', 'secretariat', 'chair', 'admin', 'officer')),
    village_id  TEXT,
    locale      TEXT NOT NULL DEFAULT 'vi',
    is_console  INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
INSERT INTO people_v7 (id, name, role, village_id, locale, is_console, created_at, revoked_at)
    SELECT id, name, role, village_id, locale, is_console, created_at, revoked_at FROM people;
DROP TABLE people;
ALTER TABLE people_v7 RENAME TO people;

-- A head's claim that a criterion's figure is `value` (a Decimal as text: a %, a change in
-- percentage points, a count of reports or good deeds), with the reason and, optionally, a
-- photo (a stored file's key, kept by the nightly clean-up while a claim refers to it);
-- then the secretariat's review: who, when, the comment.
CREATE TABLE score_claims (
    id            INTEGER PRIMARY KEY,
    year          INTEGER NOT NULL,
    village_id    TEXT NOT NULL,
    criterion_id  TEXT NOT NULL,
    value         TEXT NOT NULL,
    reason        TEXT NOT NULL,
    photo         TEXT REFERENCES files (key),
    person_id     INTEGER NOT NULL REFERENCES people (id),
    created_at    TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'accepted', 'refused')),
    reviewed_by   INTEGER REFERENCES people (id),
    reviewed_at   TEXT,
    comment       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX score_claims_year ON score_claims (year, village_id, id);
CREATE INDEX score_claims_status ON score_claims (status, year);

-- Every change to a score, kept for good: the points the rules computed from the data (when
-- they changed), a claim, its acceptance or refusal, a head's agreement, the council's
-- freezing of the board and its reopening. Points and values are Decimals as text; `data`
-- is JSON (what the points stood on: period, report, fraction…). Nothing updates or deletes
-- a row: the triggers refuse it.
CREATE TABLE score_events (
    id            INTEGER PRIMARY KEY,
    year          INTEGER NOT NULL,
    village_id    TEXT,
    criterion_id  TEXT,
    kind          TEXT NOT NULL CHECK (kind IN ('computed', 'claimed', 'accepted', 'refused',
                                                'agreed', 'finalized', 'reopened')),
    points        TEXT,
    value         TEXT,
    claim_id      INTEGER REFERENCES score_claims (id),
    person_id     INTEGER REFERENCES people (id),
    actor         TEXT NOT NULL DEFAULT '',
    reason        TEXT NOT NULL DEFAULT '',
    at            TEXT NOT NULL,
    data          TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX score_events_year ON score_events (year, village_id, criterion_id, id);
CREATE INDEX score_events_computed ON score_events (year, kind, village_id, criterion_id, id);
CREATE TRIGGER score_events_no_update BEFORE UPDATE ON score_events
BEGIN
    SELECT RAISE(ABORT, 'score_events is append-only');
END;
CREATE TRIGGER score_events_no_delete BEFORE DELETE ON score_events
BEGIN
    SELECT RAISE(ABORT, 'score_events is append-only');
END;

-- The council's frozen boards: the board as computed when it was finalized (a lossless JSON
-- record), as of which day, when and by whom ("Hội đồng TĐKT, họp ngày 20/12/2026"); a
-- reopened one says when, by whom and why. At most one board of a year is frozen at a time.
CREATE TABLE score_snapshots (
    id             INTEGER PRIMARY KEY,
    year           INTEGER NOT NULL,
    as_of          TEXT NOT NULL,
    board          TEXT NOT NULL,
    finalized_at   TEXT NOT NULL,
    finalized_by   TEXT NOT NULL,
    person_id      INTEGER REFERENCES people (id),
    reopened_at    TEXT,
    reopened_by    INTEGER REFERENCES people (id),
    reopen_reason  TEXT
);
CREATE INDEX score_snapshots_year ON score_snapshots (year, id);
CREATE UNIQUE INDEX score_snapshots_frozen ON score_snapshots (year) WHERE reopened_at IS NULL;

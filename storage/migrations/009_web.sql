-- The secretariat's web page (`web/`). A sign-in link is sent in the chat and opened once:
-- only its SHA-256 is kept (`token_hash`), with the person it signs in, the page it opens
-- (`target`) and until when it holds. A session is kept the same way (the cookie's value
-- never stored), with its CSRF token and when it was last used: it ends after eight idle
-- hours, when the person signs out (`ended_at`), or when the person is revoked.
CREATE TABLE web_links (
    token_hash  TEXT PRIMARY KEY,
    person_id   INTEGER NOT NULL REFERENCES people (id),
    target      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);
CREATE INDEX web_links_person ON web_links (person_id);

CREATE TABLE web_sessions (
    id_hash     TEXT PRIMARY KEY,
    person_id   INTEGER NOT NULL REFERENCES people (id),
    csrf        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    seen_at     TEXT NOT NULL,
    ended_at    TEXT
);
CREATE INDEX web_sessions_person ON web_sessions (person_id);

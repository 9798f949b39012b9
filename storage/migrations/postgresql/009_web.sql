-- The secretariat's web page (`web/`). A sign-in link is sent in the chat and opened once:
-- only its SHA-256 is kept (`token_hash`), with the person it signs in, the page it opens
-- (`target`) and until when it holds. A session is kept the same way (the cookie's value
-- never stored), with its CSRF token and when it was last used: it ends after eight idle
-- hours, when the person signs out (`ended_at`), or when the person is revoked. Every
-- instance serving the commune reads them, so a session holds whichever one answers.
CREATE TABLE web_links (
    commune_id  text NOT NULL DEFAULT thidua_commune(),
    token_hash  text NOT NULL,
    person_id   bigint NOT NULL REFERENCES people (id),
    target      text NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    PRIMARY KEY (commune_id, token_hash)
);
CREATE INDEX web_links_person ON web_links (person_id);

CREATE TABLE web_sessions (
    commune_id  text NOT NULL DEFAULT thidua_commune(),
    id_hash     text NOT NULL,
    person_id   bigint NOT NULL REFERENCES people (id),
    csrf        text NOT NULL,
    created_at  timestamptz NOT NULL,
    seen_at     timestamptz NOT NULL,
    ended_at    timestamptz,
    PRIMARY KEY (commune_id, id_hash)
);
CREATE INDEX web_sessions_person ON web_sessions (person_id);

ALTER TABLE web_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE web_links FORCE ROW LEVEL SECURITY;
CREATE POLICY commune ON web_links USING (commune_id = thidua_commune());
ALTER TABLE web_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE web_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY commune ON web_sessions USING (commune_id = thidua_commune());

-- Several instances on one database share each channel's pace (TELEGRAM_RATE_LIMIT and
-- ZALO_RATE_LIMIT hold in total; `next_at` is the earliest moment the next message may go),
-- and each sender says until when it is alive: the outbox claims of a sender past its
-- `alive_until` (killed) are void at once, not when their lease runs out.
CREATE TABLE send_pace (
    commune_id  text NOT NULL DEFAULT thidua_commune(),
    channel     text NOT NULL,
    next_at     timestamptz NOT NULL,
    PRIMARY KEY (commune_id, channel)
);

CREATE TABLE senders (
    commune_id   text NOT NULL DEFAULT thidua_commune(),
    owner        text NOT NULL,
    alive_until  timestamptz NOT NULL,
    PRIMARY KEY (commune_id, owner)
);

ALTER TABLE send_pace ENABLE ROW LEVEL SECURITY;
ALTER TABLE send_pace FORCE ROW LEVEL SECURITY;
CREATE POLICY commune ON send_pace USING (commune_id = thidua_commune());
ALTER TABLE senders ENABLE ROW LEVEL SECURITY;
ALTER TABLE senders FORCE ROW LEVEL SECURITY;
CREATE POLICY commune ON senders USING (commune_id = thidua_commune());

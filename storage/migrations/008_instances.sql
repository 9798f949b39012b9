-- Several instances serving one database (PostgreSQL's case) share each channel's pace, so
-- that TELEGRAM_RATE_LIMIT and ZALO_RATE_LIMIT hold in total: `next_at` is the earliest
-- moment the next message may go. And each sender says until when it is alive: the outbox
-- claims of a sender past its `alive_until` (killed) are void at once, not when their lease
-- runs out. One SQLite process paces alone and serves alone, so these stay empty there.
CREATE TABLE send_pace (
    channel  TEXT PRIMARY KEY,
    next_at  TEXT NOT NULL
);

CREATE TABLE senders (
    owner        TEXT PRIMARY KEY,
    alive_until  TEXT NOT NULL
);

-- An invite may link a second channel to someone already registered (same role, village).
ALTER TABLE invites ADD COLUMN person_id INTEGER REFERENCES people (id);

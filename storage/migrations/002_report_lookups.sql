-- Digests read one form's period across every village.
CREATE INDEX reports_form_period ON reports (form_id, period, village_id, version);

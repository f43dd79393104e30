-- Schema 8: call_costs no longer repeats each call's text call_id. Costs have been joined to
-- their calls on (batch_id, source_line, source_item) since schema 4, by every reader; the
-- copied id only cost time: writing ten million of them was a fifth of every rebill
-- (15.1-16.0 s with them, 12.5-13.5 s without).
ALTER TABLE call_costs DROP COLUMN call_id;

-- Issuance reads a resident's earlier passes of one purpose (its quota) since its window:
-- this index bounds that read by the purpose's own passes, however many of other purposes
-- the resident has. (The ceiling's per-day reads use passes_resident.)
CREATE INDEX passes_purpose ON passes (resident_id, purpose, valid_from);

-- A rejection is matched to its entry by normalised DN (case, spaces, escapes), so the
-- changelog's spelling of a DN and the entry's cannot leave one open.
ALTER TABLE rejected_operations ADD COLUMN dn_key TEXT NOT NULL DEFAULT '';
CREATE INDEX rejected_operations_by_dn_key ON rejected_operations (pipe, dn_key, status);

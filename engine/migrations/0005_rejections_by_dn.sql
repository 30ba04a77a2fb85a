-- Realtime sync resolves a DN's open rejection after each successful change: look it up by DN.
CREATE INDEX rejected_operations_by_dn ON rejected_operations (pipe, dn, status);

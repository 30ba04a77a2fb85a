-- Reference mappings resolve a DN to the SCIM id of the resource its entry became: look
-- correlations up by normalised DN, and keep the resource's display name for `display`.
ALTER TABLE synced_resources ADD COLUMN dn_key TEXT NOT NULL DEFAULT '';
ALTER TABLE synced_resources ADD COLUMN display TEXT;
CREATE INDEX synced_resources_by_dn ON synced_resources (pipe, dn_key);

-- References an entry could not write yet because their target is not at the destination:
-- when the target's resource appears, the referrer is synchronised again.
CREATE TABLE pending_references (
    pipe         TEXT NOT NULL,
    referrer_key TEXT NOT NULL,
    referrer_dn  TEXT NOT NULL,
    target_key   TEXT NOT NULL,
    target_dn    TEXT NOT NULL,
    mapping      TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (pipe, referrer_key, target_key, mapping)
);
CREATE INDEX pending_references_by_target ON pending_references (pipe, target_key);

-- A deleted resource is taken out of the resources that reference it: those are found at the
-- destination by id, then their entries by the resource id.
CREATE INDEX synced_resources_by_scim_id ON synced_resources (pipe, endpoint, scim_id);

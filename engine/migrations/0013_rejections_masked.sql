-- Rejections kept before secrets were masked by value (a password set by a PATCH `value` was
-- kept in clear): 0 until the store, at its next start, masks them (and the log of changes'
-- summaries of the same entries). Rows written since are masked when kept.
ALTER TABLE rejected_operations ADD COLUMN masked BIGINT NOT NULL DEFAULT 0;
-- A rejected change that carried a password stays open until a later change carrying one
-- goes through (or an admin retries or dismisses it): a change without one cannot say the
-- destination's password is right (389 DS follows every password change with one).
ALTER TABLE rejected_operations ADD COLUMN carries_password BIGINT NOT NULL DEFAULT 0;

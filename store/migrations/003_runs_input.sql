-- The state a run started with, so a run whose checkpoint cannot be resumed on a newer
-- plugin version (its state schema changed) can start over from the entry node.
ALTER TABLE runs ADD COLUMN input TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(input));

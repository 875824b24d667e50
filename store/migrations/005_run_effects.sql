-- The journal of side-effecting host calls made by a durable run's node attempt, keyed by
-- (run, node, attempt) and the call's position in it. A node that runs again after a crash
-- replays the recorded answers instead of repeating the effects (a second LLM call, a second
-- download). Rows live only while their node may still re-run: completing the node, restarting
-- the run or finishing it deletes them.
CREATE TABLE run_effects (
    run_id       TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    node         TEXT NOT NULL,
    attempt      INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    function     TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    result       BLOB NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (run_id, node, attempt, seq)
) WITHOUT ROWID;

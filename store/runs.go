package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Run statuses.
const (
	RunRunning   = "running"
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
	RunCancelled = "cancelled"
)

// Run is a workflow run with its checkpoint: State is the state after the last finished
// node and NextNode the node to run next ("" when finished).
type Run struct {
	ID            string          `json:"id"`
	Workflow      string          `json:"workflow"`
	Plugin        string          `json:"plugin"`
	PluginVersion string          `json:"plugin_version"`
	SchemaVersion int             `json:"state_schema_version"`
	ItemID        string          `json:"item_id,omitempty"`
	Status        string          `json:"status"`
	Input         json.RawMessage `json:"input"`
	State         json.RawMessage `json:"state"`
	NextNode      string          `json:"next_node,omitempty"`
	Steps         int             `json:"steps"`
	Error         string          `json:"error,omitempty"`
	CreatedAt     time.Time       `json:"created_at"`
	UpdatedAt     time.Time       `json:"updated_at"`
	FinishedAt    *time.Time      `json:"finished_at"`
	Nodes         []RunNode       `json:"nodes"`
}

// RunNode is one attempt of one node.
type RunNode struct {
	Seq        int        `json:"seq"`
	Node       string     `json:"node"`
	Attempt    int        `json:"attempt"`
	Status     string     `json:"status"`
	Error      string     `json:"error,omitempty"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	DurationMS int64      `json:"duration_ms"`
}

// CreateRun records a new run (status running) and makes it its item's latest run.
func (db *DB) CreateRun(ctx context.Context, r Run) (Run, error) {
	now := db.Now()
	if r.ID == "" {
		r.ID = NewID(PrefixRun, now)
	}
	if len(r.Input) == 0 {
		r.Input = json.RawMessage("{}")
	}
	if len(r.State) == 0 {
		r.State = r.Input
	}
	r.Status, r.CreatedAt, r.UpdatedAt = RunRunning, now, now
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO runs (id, workflow, plugin, plugin_version, schema_version,
			item_id, status, input, state, next_node, steps, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, 0, ?, ?)`,
			r.ID, r.Workflow, r.Plugin, r.PluginVersion, r.SchemaVersion, nullIfEmpty(r.ItemID),
			string(r.Input), string(r.State), r.NextNode, formatTime(now), formatTime(now))
		if err != nil {
			return fmt.Errorf("insert run: %w", err)
		}
		if r.ItemID != "" {
			_, err = tx.ExecContext(ctx, "UPDATE items SET latest_run_id = ? WHERE id = ?", r.ID, r.ItemID)
		}
		return err
	})
	return r, err
}

// GetRun returns a run with its node history.
func (db *DB) GetRun(ctx context.Context, id string) (Run, error) {
	var r Run
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		var input, state, created, updated string
		var item, finished sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT id, workflow, plugin, plugin_version, schema_version, item_id,
			status, input, state, next_node, steps, error, created_at, updated_at, finished_at FROM runs WHERE id = ?`, id).
			Scan(&r.ID, &r.Workflow, &r.Plugin, &r.PluginVersion, &r.SchemaVersion, &item, &r.Status, &input,
				&state, &r.NextNode, &r.Steps, &r.Error, &created, &updated, &finished)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("run %q: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("get run %q: %w", id, err)
		}
		r.ItemID, r.Input, r.State = item.String, json.RawMessage(input), json.RawMessage(state)
		r.CreatedAt, r.UpdatedAt = parseTime(created), parseTime(updated)
		if finished.Valid {
			t := parseTime(finished.String)
			r.FinishedAt = &t
		}
		rows, err := tx.QueryContext(ctx, `SELECT seq, node, attempt, status, error, started_at, finished_at, duration_ms
			FROM run_nodes WHERE run_id = ? ORDER BY seq`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		r.Nodes = []RunNode{}
		for rows.Next() {
			var n RunNode
			var started string
			var fin sql.NullString
			if err := rows.Scan(&n.Seq, &n.Node, &n.Attempt, &n.Status, &n.Error, &started, &fin, &n.DurationMS); err != nil {
				return err
			}
			n.StartedAt = parseTime(started)
			if fin.Valid {
				t := parseTime(fin.String)
				n.FinishedAt = &t
			}
			r.Nodes = append(r.Nodes, n)
		}
		return rows.Err()
	})
	return r, err
}

// StartNode records the start of a node attempt and returns its sequence number.
func (db *DB) StartNode(ctx context.Context, runID, node string, attempt int) (int, error) {
	var seq int
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) + 1 FROM run_nodes WHERE run_id = ?", runID).Scan(&seq); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO run_nodes (run_id, seq, node, attempt, status, started_at)
			VALUES (?, ?, ?, ?, 'running', ?)`, runID, seq, node, attempt, formatTime(db.now()))
		if err != nil {
			return fmt.Errorf("start node %s of %s: %w", node, runID, err)
		}
		_, err = tx.ExecContext(ctx, "UPDATE runs SET status = 'running', updated_at = ? WHERE id = ?", formatTime(db.now()), runID)
		return err
	})
	return seq, err
}

// FailNode records a failed node attempt.
func (db *DB) FailNode(ctx context.Context, runID string, seq int, errMsg string, took time.Duration) error {
	_, err := db.write.ExecContext(ctx, `UPDATE run_nodes SET status = 'failed', error = ?, finished_at = ?, duration_ms = ?
		WHERE run_id = ? AND seq = ?`, errMsg, formatTime(db.now()), took.Milliseconds(), runID, seq)
	if err != nil {
		return fmt.Errorf("fail node %d of %s: %w", seq, runID, err)
	}
	return nil
}

// CompleteNode records a finished node and checkpoints the run in the same transaction:
// after a crash the run resumes at next with this state, and never redoes this node.
func (db *DB) CompleteNode(ctx context.Context, runID string, seq int, took time.Duration, state json.RawMessage, next string) error {
	now := formatTime(db.now())
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE run_nodes SET status = 'succeeded', finished_at = ?, duration_ms = ?
			WHERE run_id = ? AND seq = ?`, now, took.Milliseconds(), runID, seq); err != nil {
			return fmt.Errorf("complete node %d of %s: %w", seq, runID, err)
		}
		_, err := tx.ExecContext(ctx, `UPDATE runs SET state = ?, next_node = ?, steps = steps + 1, updated_at = ?
			WHERE id = ?`, string(state), next, now, runID)
		if err != nil {
			return fmt.Errorf("checkpoint %s: %w", runID, err)
		}
		// The node will not run again: its journal has served.
		_, err = tx.ExecContext(ctx, `DELETE FROM run_effects WHERE run_id = ? AND node =
			(SELECT node FROM run_nodes WHERE run_id = ? AND seq = ?)`, runID, runID, seq)
		if err != nil {
			return fmt.Errorf("clear effects of %s: %w", runID, err)
		}
		return nil
	})
}

// RestartRun resets a run to its input at entry, for a checkpoint a new plugin version
// cannot resume.
func (db *DB) RestartRun(ctx context.Context, runID, entry, pluginVersion string, schemaVersion int) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE runs SET state = input, next_node = ?, plugin_version = ?,
			schema_version = ?, status = 'running', error = '', updated_at = ? WHERE id = ?`,
			entry, pluginVersion, schemaVersion, formatTime(db.now()), runID)
		if err != nil {
			return fmt.Errorf("restart run %s: %w", runID, err)
		}
		return clearEffects(ctx, tx, runID)
	})
}

// clearEffects drops a run's journal: a run that ends or starts over replays nothing.
func clearEffects(ctx context.Context, tx *sql.Tx, runID string) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM run_effects WHERE run_id = ?", runID); err != nil {
		return fmt.Errorf("clear effects of %s: %w", runID, err)
	}
	return nil
}

// FinishRun records the run's end.
func (db *DB) FinishRun(ctx context.Context, runID, status, errMsg string) error {
	now := formatTime(db.now())
	finished := sql.NullString{String: now, Valid: status != RunRunning}
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE runs SET status = ?, error = ?, updated_at = ?, finished_at = ? WHERE id = ?`,
			status, errMsg, now, finished, runID)
		if err != nil || status == RunRunning {
			return err
		}
		return clearEffects(ctx, tx, runID)
	})
	if err != nil {
		return fmt.Errorf("finish run %s: %w", runID, err)
	}
	return nil
}

// EffectKey identifies one side-effecting host call of a durable run: the node attempt it
// belongs to (the idempotency key) and its position among that attempt's calls.
type EffectKey struct {
	RunID   string
	Node    string
	Attempt int
	Seq     int
}

// Effect is a journalled host call: what was asked (a hash) and the answer given.
type Effect struct {
	Function    string
	RequestHash string
	Result      []byte
}

// Effect returns the journalled call at key, if the attempt made it before.
func (db *DB) Effect(ctx context.Context, key EffectKey) (Effect, bool, error) {
	var e Effect
	err := db.read.QueryRowContext(ctx, `SELECT function, request_hash, result FROM run_effects
		WHERE run_id = ? AND node = ? AND attempt = ? AND seq = ?`, key.RunID, key.Node, key.Attempt, key.Seq).
		Scan(&e.Function, &e.RequestHash, &e.Result)
	if errors.Is(err, sql.ErrNoRows) {
		return Effect{}, false, nil
	}
	if err != nil {
		return Effect{}, false, fmt.Errorf("read effect %+v: %w", key, err)
	}
	return e, true, nil
}

// RecordEffect journals a host call's answer at key, replacing what an earlier replay that
// diverged left there.
func (db *DB) RecordEffect(ctx context.Context, key EffectKey, e Effect) error {
	_, err := db.write.ExecContext(ctx, `INSERT OR REPLACE INTO run_effects
		(run_id, node, attempt, seq, function, request_hash, result, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		key.RunID, key.Node, key.Attempt, key.Seq, e.Function, e.RequestHash, e.Result, formatTime(db.now()))
	if err != nil {
		return fmt.Errorf("record effect %+v: %w", key, err)
	}
	return nil
}

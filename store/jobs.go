package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Job statuses.
const (
	JobQueued  = "queued"
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// JobReembed re-embeds every chunk into the current embedding model's space.
const JobReembed = "reembed"

// Job is durable work.
type Job struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"`
	ItemID    string    `json:"item_id,omitempty"`
	Status    string    `json:"status"`
	Attempts  int       `json:"attempts"`
	RunAfter  time.Time `json:"run_after"`
	LastError string    `json:"last_error,omitempty"`
	RunID     string    `json:"run_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// RequeueRunningJobs puts jobs left running by a process that died back in the queue; their
// runs resume from the last checkpoint. It returns how many there were.
func (db *DB) RequeueRunningJobs(ctx context.Context) (int, error) {
	res, err := db.write.ExecContext(ctx, `UPDATE jobs SET status = 'queued', updated_at = ? WHERE status = 'running'
		AND NOT EXISTS (SELECT 1 FROM jobs q WHERE q.kind = jobs.kind AND q.item_id IS jobs.item_id AND q.status = 'queued')`,
		formatTime(db.now()))
	if err != nil {
		return 0, fmt.Errorf("requeue running jobs: %w", err)
	}
	n, _ := res.RowsAffected()
	// A running job with a newer one queued behind it is superseded.
	if _, err := db.write.ExecContext(ctx, "UPDATE jobs SET status = 'done' WHERE status = 'running'"); err != nil {
		return 0, err
	}
	return int(n), nil
}

// ClaimJobs marks up to n due jobs of kind running and returns them. A job whose item
// already has a running job waits, so an item is never processed twice at once.
func (db *DB) ClaimJobs(ctx context.Context, kind string, n int) ([]Job, error) {
	if n <= 0 {
		return nil, nil
	}
	now := formatTime(db.now())
	var jobs []Job
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, kind, coalesce(item_id, ''), attempts, run_after, coalesce(run_id, ''), created_at
			FROM jobs j WHERE status = 'queued' AND kind = ? AND run_after <= ?
			AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.status = 'running' AND r.kind = j.kind AND r.item_id IS j.item_id)
			ORDER BY run_after, id LIMIT ?`, kind, now, n)
		if err != nil {
			return err
		}
		for rows.Next() {
			var j Job
			var runAfter, created string
			if err := rows.Scan(&j.ID, &j.Kind, &j.ItemID, &j.Attempts, &runAfter, &j.RunID, &created); err != nil {
				rows.Close()
				return err
			}
			j.RunAfter, j.CreatedAt, j.Status = parseTime(runAfter), parseTime(created), JobRunning
			j.Attempts++
			jobs = append(jobs, j)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, j := range jobs {
			if _, err := tx.ExecContext(ctx, "UPDATE jobs SET status = 'running', attempts = ?, updated_at = ? WHERE id = ?", j.Attempts, now, j.ID); err != nil {
				return err
			}
			if j.ItemID != "" && j.Kind == JobProcess {
				if _, err := tx.ExecContext(ctx, "UPDATE items SET status = 'processing', updated_at = ? WHERE id = ? AND status != 'processing'", now, j.ItemID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim %s jobs: %w", kind, err)
	}
	return jobs, nil
}

// NextJobDue is when the earliest queued job of kind may run (zero when none is queued).
func (db *DB) NextJobDue(ctx context.Context, kind string) (time.Time, error) {
	var s sql.NullString
	err := db.read.QueryRowContext(ctx, "SELECT min(run_after) FROM jobs WHERE status = 'queued' AND kind = ?", kind).Scan(&s)
	if err != nil || !s.Valid {
		return time.Time{}, err
	}
	return parseTime(s.String), nil
}

// SetJobRun records the run a job drives, so a restart resumes that run.
func (db *DB) SetJobRun(ctx context.Context, jobID int64, runID string) error {
	_, err := db.write.ExecContext(ctx, "UPDATE jobs SET run_id = ? WHERE id = ?", runID, jobID)
	return err
}

// CompleteProcessJob marks the job done and its item ready, unless newer content is
// already queued behind it, in which case the item stays pending.
func (db *DB) CompleteProcessJob(ctx context.Context, job Job) error {
	now := formatTime(db.now())
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE jobs SET status = 'done', last_error = '', updated_at = ? WHERE id = ?", now, job.ID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE items SET status = 'ready', error = '', processed_at = ?, updated_at = ?
			WHERE id = ? AND NOT EXISTS (SELECT 1 FROM jobs q WHERE q.item_id = items.id AND q.status = 'queued' AND q.kind = 'process')`,
			now, now, job.ItemID)
		return err
	})
}

// CompleteJob marks a job done.
func (db *DB) CompleteJob(ctx context.Context, jobID int64) error {
	_, err := db.write.ExecContext(ctx, "UPDATE jobs SET status = 'done', last_error = '', updated_at = ? WHERE id = ?", formatTime(db.now()), jobID)
	return err
}

// RetryJobLater puts a job back in the queue until runAfter; its item says why it waits.
func (db *DB) RetryJobLater(ctx context.Context, job Job, runAfter time.Time, reason string) error {
	now := formatTime(db.now())
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE jobs SET status = 'queued', run_after = ?, last_error = ?, updated_at = ? WHERE id = ?",
			formatTime(runAfter), reason, now, job.ID); err != nil {
			return err
		}
		if job.ItemID == "" || job.Kind != JobProcess {
			return nil
		}
		_, err := tx.ExecContext(ctx, "UPDATE items SET status = 'pending', error = ?, updated_at = ? WHERE id = ?", reason, now, job.ItemID)
		return err
	})
}

// FailProcessJob marks the job failed and its item failed with the error (a newer queued
// job for the item still runs).
func (db *DB) FailProcessJob(ctx context.Context, job Job, errMsg string) error {
	now := formatTime(db.now())
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE jobs SET status = 'failed', last_error = ?, updated_at = ? WHERE id = ?", errMsg, now, job.ID); err != nil {
			return err
		}
		if job.ItemID == "" {
			return nil
		}
		_, err := tx.ExecContext(ctx, `UPDATE items SET status = 'failed', error = ?, updated_at = ?
			WHERE id = ? AND NOT EXISTS (SELECT 1 FROM jobs q WHERE q.item_id = items.id AND q.status = 'queued' AND q.kind = 'process')`,
			errMsg, now, job.ItemID)
		return err
	})
}

// FailJob marks a job failed.
func (db *DB) FailJob(ctx context.Context, jobID int64, errMsg string) error {
	_, err := db.write.ExecContext(ctx, "UPDATE jobs SET status = 'failed', last_error = ?, updated_at = ? WHERE id = ?", errMsg, formatTime(db.now()), jobID)
	return err
}

// EnqueueJob queues a job of kind for an item ("" for none) unless one is already queued.
func (db *DB) EnqueueJob(ctx context.Context, kind, itemID string) error {
	now := db.now()
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if itemID == "" {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM jobs WHERE kind = ? AND item_id IS NULL AND status = 'queued'", kind).Scan(&n); err != nil || n > 0 {
				return err
			}
			ts := formatTime(now)
			_, err := tx.ExecContext(ctx, `INSERT INTO jobs (kind, status, run_after, created_at, updated_at) VALUES (?, 'queued', ?, ?, ?)`, kind, ts, ts, ts)
			return err
		}
		return enqueueJob(ctx, tx, kind, itemID, now)
	})
}

// RetryItems sends failed items back to pending with a fresh job: the given ones, or every
// failed item when ids is empty. It returns the IDs it queued.
func (db *DB) RetryItems(ctx context.Context, ids []string) ([]string, error) {
	now := db.now()
	var queued []string
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		query := "SELECT id FROM items WHERE status = 'failed'"
		var args []any
		if len(ids) > 0 {
			query = "SELECT id FROM items WHERE id IN (?" + strings.Repeat(", ?", len(ids)-1) + ") AND status IN ('failed', 'ready', 'pending')"
			for _, id := range ids {
				args = append(args, id)
			}
		}
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			queued = append(queued, id)
		}
		rows.Close()
		for _, id := range queued {
			if _, err := tx.ExecContext(ctx, "UPDATE items SET status = 'pending', error = '', updated_at = ? WHERE id = ?", formatTime(now), id); err != nil {
				return err
			}
			if err := enqueueJob(ctx, tx, JobProcess, id, now); err != nil {
				return err
			}
			// Resume the failed run at the node that failed rather than redo finished ones.
			if _, err := tx.ExecContext(ctx, `UPDATE jobs SET run_id = (SELECT i.latest_run_id FROM items i
				JOIN runs r ON r.id = i.latest_run_id WHERE i.id = ? AND r.status IN ('failed', 'cancelled'))
				WHERE kind = 'process' AND item_id = ? AND status = 'queued'`, id, id); err != nil {
				return err
			}
		}
		return nil
	})
	if queued == nil {
		queued = []string{}
	}
	return queued, err
}

// QueueStats summarises processing for the queue endpoint.
type QueueStats struct {
	Items        map[string]int `json:"items"`
	Jobs         map[string]int `json:"jobs"`
	RecentErrors []ItemError    `json:"recent_failures"`
	Waiting      []ItemError    `json:"waiting"`
}

// ItemError is an item and the error it reports.
type ItemError struct {
	ItemID    string    `json:"item_id"`
	Title     string    `json:"title"`
	Error     string    `json:"error"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Queue returns counts per item status and job status, the latest failures, and the items
// waiting to retry.
func (db *DB) Queue(ctx context.Context) (QueueStats, error) {
	st := QueueStats{Items: map[string]int{}, Jobs: map[string]int{}, RecentErrors: []ItemError{}, Waiting: []ItemError{}}
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		for _, s := range []string{StatusPending, StatusProcessing, StatusReady, StatusFailed} {
			st.Items[s] = 0
		}
		for _, q := range []struct {
			query string
			into  map[string]int
		}{
			{"SELECT status, count(*) FROM items GROUP BY status", st.Items},
			{"SELECT kind || ':' || status, count(*) FROM jobs WHERE status IN ('queued', 'running', 'failed') GROUP BY kind, status", st.Jobs},
		} {
			rows, err := tx.QueryContext(ctx, q.query)
			if err != nil {
				return err
			}
			for rows.Next() {
				var k string
				var n int
				if err := rows.Scan(&k, &n); err != nil {
					rows.Close()
					return err
				}
				q.into[k] = n
			}
			rows.Close()
		}
		for _, q := range []struct {
			where string
			into  *[]ItemError
		}{
			{"status = 'failed'", &st.RecentErrors},
			{"status = 'pending' AND error != ''", &st.Waiting},
		} {
			rows, err := tx.QueryContext(ctx, "SELECT id, title, error, updated_at FROM items WHERE "+q.where+" ORDER BY updated_at DESC LIMIT 20")
			if err != nil {
				return err
			}
			for rows.Next() {
				var e ItemError
				var ts string
				if err := rows.Scan(&e.ItemID, &e.Title, &e.Error, &ts); err != nil {
					rows.Close()
					return err
				}
				e.UpdatedAt = parseTime(ts)
				*q.into = append(*q.into, e)
			}
			rows.Close()
		}
		return nil
	})
	return st, err
}

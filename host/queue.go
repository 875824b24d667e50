package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cortexhq/cortex/providers"
	"github.com/cortexhq/cortex/sdk/abi"
	"github.com/cortexhq/cortex/store"
)

// QueueStore is the storage the processing queue needs.
type QueueStore interface {
	RequeueRunningJobs(ctx context.Context) (int, error)
	ClaimJobs(ctx context.Context, kind string, n int) ([]store.Job, error)
	NextJobDue(ctx context.Context, kind string) (time.Time, error)
	SetJobRun(ctx context.Context, jobID int64, runID string) error
	CompleteProcessJob(ctx context.Context, job store.Job) error
	CompleteJob(ctx context.Context, jobID int64) error
	RetryJobLater(ctx context.Context, job store.Job, runAfter time.Time, reason string) error
	FailProcessJob(ctx context.Context, job store.Job, errMsg string) error
	FailJob(ctx context.Context, jobID int64, errMsg string) error
	EnqueueJob(ctx context.Context, kind, itemID string) error
	GetItem(ctx context.Context, id string) (store.Item, error)

	ActiveSpace(ctx context.Context) (store.Space, error)
	EnsureSpace(ctx context.Context, id store.SpaceIdentity, chunkSize, chunkOverlap int) (store.Space, error)
	SetSpaceState(ctx context.Context, spaceID int64, state string) error
	ChunksMissingVectors(ctx context.Context, space store.Space, limit int) ([]store.Chunk, error)
	CountVectors(ctx context.Context, space store.Space) (chunks, vectors int, err error)
	InsertVectors(ctx context.Context, space store.Space, ids []int64, vectors [][]float32) error
	SetEmbeddingModel(ctx context.Context, model string) error
}

// EventItemStatus is published on "item:<id>" and TopicItems when processing leaves an
// item ready, failed, or waiting to retry.
const EventItemStatus = "item_status"

// TopicItems carries the EventItemStatus of every item.
const TopicItems = "items"

// Queue runs durable jobs: the processing workflow for saved items, at most
// max_concurrent_processing at once, and the re-embedding of every chunk when the
// embedding model changes. Jobs live in SQLite, so nothing is lost when the process dies:
// jobs left running are queued again at start and their runs resume at the checkpoint.
type Queue struct {
	db          QueueStore
	engine      *Engine
	models      *Models
	concurrency func() int
	chunking    func() (size, overlap int)
	log         *slog.Logger
	now         func() time.Time

	wake     chan struct{}
	inflight atomic.Int64
	wg       sync.WaitGroup
	reembed  atomic.Pointer[ReembedStatus]
}

// ReembedStatus is the progress of moving vectors to a new embedding model.
type ReembedStatus struct {
	Model   string `json:"model"`
	Done    int    `json:"done"`
	Total   int    `json:"total"`
	Running bool   `json:"running"`
	Error   string `json:"error,omitempty"`
}

// QueueOptions configure NewQueue.
type QueueOptions struct {
	Concurrency func() int
	Chunking    func() (size, overlap int)
	Logger      *slog.Logger
}

// NewQueue returns a queue; Start runs it.
func NewQueue(db QueueStore, engine *Engine, models *Models, opts QueueOptions) *Queue {
	if opts.Concurrency == nil {
		opts.Concurrency = func() int { return 2 }
	}
	if opts.Chunking == nil {
		opts.Chunking = func() (int, int) { return 500, 50 }
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Queue{db: db, engine: engine, models: models, concurrency: opts.Concurrency, chunking: opts.Chunking,
		log: opts.Logger, now: time.Now, wake: make(chan struct{}, 1)}
}

// Wake makes the queue look for work now (after a save, for example).
func (q *Queue) Wake() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Start requeues what a previous process left running and runs the queue until ctx ends.
func (q *Queue) Start(ctx context.Context) error {
	n, err := q.db.RequeueRunningJobs(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		q.log.Info("resuming jobs left running by the last process", "jobs", n)
	}
	q.CheckEmbeddingModel(ctx)
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		q.loop(ctx)
	}()
	return nil
}

// Wait blocks until the queue loop and its jobs have returned (after ctx ended).
func (q *Queue) Wait() { q.wg.Wait() }

// pollInterval bounds how long a due job can wait unnoticed if a wake-up is missed.
const pollInterval = 2 * time.Second

func (q *Queue) loop(ctx context.Context) {
	reembedRunning := false
	reembedDone := make(chan struct{}, 1)
	for {
		free := q.concurrency() - int(q.inflight.Load())
		jobs, err := q.db.ClaimJobs(ctx, store.JobProcess, free)
		if err != nil && ctx.Err() == nil {
			q.log.Error("claim jobs", "err", err)
		}
		for _, job := range jobs {
			q.inflight.Add(1)
			q.wg.Add(1)
			go func() {
				defer q.wg.Done()
				defer q.inflight.Add(-1)
				q.process(ctx, job)
				q.Wake()
			}()
		}
		if !reembedRunning {
			if jobs, err := q.db.ClaimJobs(ctx, store.JobReembed, 1); err == nil && len(jobs) == 1 {
				reembedRunning = true
				q.wg.Add(1)
				go func() {
					defer q.wg.Done()
					q.runReembed(ctx, jobs[0])
					reembedDone <- struct{}{}
				}()
			}
		}
		wait := pollInterval
		if due, err := q.db.NextJobDue(ctx, store.JobProcess); err == nil && !due.IsZero() {
			wait = min(wait, max(due.Sub(q.now()), 10*time.Millisecond))
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-q.wake:
		case <-reembedDone:
			reembedRunning = false
		case <-timer.C:
		}
		timer.Stop()
	}
}

// process runs the processing workflow for one job's item and records the outcome.
func (q *Queue) process(ctx context.Context, job store.Job) {
	input, _ := json.Marshal(map[string]string{"item_id": job.ItemID})
	log := q.log.With("item", job.ItemID, "job", job.ID, "attempt", job.Attempts)
	_, err := q.engine.Execute(ctx, "processing", input, RunOptions{
		ItemID:      job.ItemID,
		ResumeRunID: job.RunID,
		OnStart: func(runID string) {
			if err := q.db.SetJobRun(ctx, job.ID, runID); err != nil {
				log.Error("record job run", "err", err)
			}
		},
	})
	if ctx.Err() != nil {
		// Shutting down: the job stays running and is queued again at the next start.
		return
	}
	bg := context.WithoutCancel(ctx)
	switch {
	case err == nil:
		if err := q.db.CompleteProcessJob(bg, job); err != nil {
			log.Error("complete job", "err", err)
		}
	case temporary(err) && job.Attempts < maxTemporaryAttempts:
		wait := retryDelay(job.Attempts)
		at := q.now().Add(wait)
		reason := fmt.Sprintf("waiting to retry at %s (attempt %d): %s", at.UTC().Format(time.RFC3339), job.Attempts, shortError(err))
		log.Warn("processing will retry", "in", wait, "err", err)
		if err := q.db.RetryJobLater(bg, job, at, reason); err != nil {
			log.Error("requeue job", "err", err)
		}
	default:
		log.Warn("processing failed", "err", err)
		if err := q.db.FailProcessJob(bg, job, shortError(err)); err != nil {
			log.Error("fail job", "err", err)
		}
	}
	q.publishItemStatus(bg, job.ItemID)
}

func (q *Queue) publishItemStatus(ctx context.Context, itemID string) {
	it, err := q.db.GetItem(ctx, itemID)
	if err != nil {
		return
	}
	ev := RunEvent{Type: EventItemStatus, ItemID: itemID, Status: it.Status, Error: it.Error, Progress: 1, Time: q.now().UTC()}
	q.engine.broker.Publish("item:"+itemID, ev)
	q.engine.broker.Publish(TopicItems, ev)
}

// maxTemporaryAttempts bounds the waiting: with the 5-minute cap on back-off an item keeps
// trying for about 45 minutes (a provider being started, a laptop back online) and then
// fails with the last error, to be retried by hand.
const maxTemporaryAttempts = 12

// temporary says whether a failed run should wait and try again later rather than fail
// the item: a provider that is down, a plugin that is (re)loading.
func temporary(err error) bool {
	var abiErr *abi.Error
	if errors.As(err, &abiErr) && abiErr.Code == abi.ErrUnavailable {
		return true
	}
	return errors.Is(err, providers.ErrUnavailable) || errors.Is(err, ErrNotReady) ||
		(errors.Is(err, ErrNotFound) && strings.Contains(err.Error(), "workflow"))
}

// retryDelay backs off 5 s, 10 s, 20 s … up to 5 minutes.
func retryDelay(attempts int) time.Duration {
	d := 5 * time.Second
	for i := 1; i < attempts && d < 5*time.Minute; i++ {
		d *= 2
	}
	return min(d, 5*time.Minute)
}

// shortError keeps an error readable in the item, which a person reads: a node that
// failed with the plugin's own message says "extract: <message>"; anything else keeps
// its wrapping (the run, at /api/runs/{id}, has every detail). Cut at 500 characters.
func shortError(err error) string {
	msg := err.Error()
	var ne *NodeError
	var ae *abi.Error
	if errors.As(err, &ne) && errors.As(ne.Err, &ae) && ae.Message != "" {
		msg = ne.Node + ": " + ae.Message
	}
	if len(msg) > 500 {
		msg = msg[:500] + "…"
	}
	return msg
}

// CheckEmbeddingModel queues a re-embedding when the active vectors come from another
// model than the current settings select.
func (q *Queue) CheckEmbeddingModel(ctx context.Context) {
	if q.models == nil {
		return
	}
	cur := q.models.Embedder().Identity()
	active, err := q.db.ActiveSpace(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return // nothing embedded yet: the first chunks written create the space
	}
	if err != nil {
		q.log.Error("read active embedding space", "err", err)
		return
	}
	if active.Provider == cur.Provider && active.Model == cur.Model &&
		(cur.Dimensions == 0 || cur.Dimensions == active.Dimensions) &&
		active.DocPrefix == cur.DocPrefix && active.QueryPrefix == cur.QueryPrefix {
		return
	}
	q.log.Info("embedding model changed; re-embedding in the background",
		"from", active.Provider+"/"+active.Model, "to", cur.Provider+"/"+cur.Model)
	if err := q.db.EnqueueJob(ctx, store.JobReembed, ""); err != nil {
		q.log.Error("queue re-embedding", "err", err)
		return
	}
	q.Wake()
}

// Reembed is the progress of the current or last re-embedding, or nil.
func (q *Queue) Reembed() *ReembedStatus { return q.reembed.Load() }

// reembedBatch is how many chunks are embedded per provider call and stored per
// transaction.
const reembedBatch = 64

// runReembed fills the current model's space with a vector for every chunk, then makes it
// the active space. Search keeps using the old space until then; chunks written meanwhile
// already go to the new one.
func (q *Queue) runReembed(ctx context.Context, job store.Job) {
	err := q.reembedAll(ctx)
	bg := context.WithoutCancel(ctx)
	switch {
	case ctx.Err() != nil:
	case err == nil:
		q.db.CompleteJob(bg, job.ID)
	case temporary(err):
		q.db.RetryJobLater(bg, job, q.now().Add(retryDelay(job.Attempts)), shortError(err))
	default:
		q.db.FailJob(bg, job.ID, shortError(err))
	}
	if st := q.reembed.Load(); st != nil {
		next := *st
		next.Running = false
		if err != nil {
			next.Error = shortError(err)
		}
		q.reembed.Store(&next)
	}
}

func (q *Queue) reembedAll(ctx context.Context) error {
	emb := q.models.Embedder()
	// Remote models tell their dimensions only by answering.
	if _, err := emb.Embed(ctx, []string{"dimension probe"}, providers.PurposeDocument); err != nil {
		return fmt.Errorf("probe embedding model: %w", err)
	}
	id := emb.Identity()
	size, overlap := q.chunking()
	space, err := q.db.EnsureSpace(ctx, store.SpaceIdentity(id), size, overlap)
	if err != nil {
		return err
	}
	model := id.Provider + "/" + id.Model
	total, done, err := q.db.CountVectors(ctx, space)
	if err != nil {
		return err
	}
	q.reembed.Store(&ReembedStatus{Model: model, Done: done, Total: total, Running: true})
	for {
		chunks, err := q.db.ChunksMissingVectors(ctx, space, reembedBatch)
		if err != nil {
			return err
		}
		if len(chunks) == 0 {
			break
		}
		texts := make([]string, len(chunks))
		ids := make([]int64, len(chunks))
		for i, c := range chunks {
			texts[i], ids[i] = embedText(c.Heading, c.Text), c.ID
		}
		vecs, err := emb.Embed(ctx, texts, providers.PurposeDocument)
		if err != nil {
			return fmt.Errorf("re-embed: %w", err)
		}
		if err := q.db.InsertVectors(ctx, space, ids, vecs); err != nil {
			return err
		}
		done += len(chunks)
		q.reembed.Store(&ReembedStatus{Model: model, Done: done, Total: max(total, done), Running: true})
	}
	if err := q.db.SetSpaceState(ctx, space.ID, store.SpaceActive); err != nil {
		return err
	}
	q.log.Info("embedding model switched", "model", model, "chunks", done)
	return q.db.SetEmbeddingModel(ctx, model)
}

// embedText is what a chunk is embedded as: its heading gives a short passage context.
func embedText(heading, text string) string {
	if heading == "" {
		return text
	}
	return heading + "\n" + text
}

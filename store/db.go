package store

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	sqlitevec "github.com/asg017/sqlite-vec-go-bindings/cgo"
	"github.com/mattn/go-sqlite3"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// timeLayout is fixed-width so that stored timestamps sort as text.
const timeLayout = "2006-01-02T15:04:05.000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) time.Time {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		// Rows are only written by formatTime; tolerate hand-edited RFC 3339 too.
		t, _ = time.Parse(time.RFC3339Nano, s)
	}
	return t.UTC()
}

// Options tune Open. The zero value is fine.
type Options struct {
	// Readers is the size of the read pool; 0 means max(4, GOMAXPROCS).
	Readers int
	// Now is the clock; nil means time.Now. Tests inject a fixed one.
	Now func() time.Time
	// CacheSizeKiB and MmapSizeBytes set the per-connection page cache and memory map;
	// zero picks defaults sized for vector tables (vec0 chunks are ~3 MiB).
	CacheSizeKiB  int
	MmapSizeBytes int64
	// AllowMissingFTS5 opens a database even when SQLite was built without FTS5 (no
	// sqlite_fts5 tag): the keyword index is left out until a build with FTS5 opens it.
	// Only the plugin harness sets it, so that plugin authors' `go test` needs no tag.
	AllowMissingFTS5 bool
}

// DB is the Cortex database.
type DB struct {
	path   string
	hasFTS bool
	write  *sql.DB
	read   *sql.DB
	now    func() time.Time
	closed sync.Once

	ixMu sync.Mutex // guards ix, the in-memory vector index of one space
	ix   *vecIndex
}

var registerVec sync.Once

// connector opens mattn/go-sqlite3 connections with our pragmas, without registering a
// global driver name.
type connector struct {
	dsn    string
	driver *sqlite3.SQLiteDriver
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.driver.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.driver }

// Open opens (creating if needed) the database at path and applies pending migrations.
// The path ":memory:" gives a private in-memory database on a single connection.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	registerVec.Do(sqlitevec.Auto)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Readers <= 0 {
		opts.Readers = max(4, runtime.GOMAXPROCS(0))
	}
	if opts.CacheSizeKiB <= 0 {
		opts.CacheSizeKiB = 16 << 10
	}
	if opts.MmapSizeBytes <= 0 {
		opts.MmapSizeBytes = 1 << 30
	}
	db := &DB{path: path, now: opts.Now}

	hook := func(conn *sqlite3.SQLiteConn) error {
		for _, p := range []string{
			"PRAGMA cache_size = -" + strconv.Itoa(opts.CacheSizeKiB),
			"PRAGMA mmap_size = " + strconv.FormatInt(opts.MmapSizeBytes, 10),
			"PRAGMA temp_store = MEMORY",
		} {
			if _, err := conn.Exec(p, nil); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		return nil
	}
	drv := &sqlite3.SQLiteDriver{ConnectHook: hook}

	if path == ":memory:" {
		// One connection: every new connection to ":memory:" would be a different database.
		mem := sql.OpenDB(connector{dsn: "file::memory:?_foreign_keys=on&_txlock=immediate", driver: drv})
		mem.SetMaxOpenConns(1)
		mem.SetConnMaxLifetime(0)
		db.write, db.read = mem, mem
	} else {
		q := url.Values{}
		q.Set("_journal_mode", "WAL")
		q.Set("_synchronous", "NORMAL")
		q.Set("_foreign_keys", "on")
		q.Set("_busy_timeout", "10000")
		base := "file:" + path + "?"
		wq := cloneValues(q)
		wq.Set("_txlock", "immediate")
		db.write = sql.OpenDB(connector{dsn: base + wq.Encode(), driver: drv})
		db.write.SetMaxOpenConns(1)
		db.write.SetConnMaxLifetime(0)
		rq := cloneValues(q)
		rq.Set("_query_only", "true")
		db.read = sql.OpenDB(connector{dsn: base + rq.Encode(), driver: drv})
		db.read.SetMaxOpenConns(opts.Readers)
		db.read.SetMaxIdleConns(opts.Readers)
	}

	if err := db.checkFTS5(ctx); err != nil {
		if !errors.Is(err, ErrNoFTS5) || !opts.AllowMissingFTS5 {
			db.Close()
			return nil, err
		}
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	return db, nil
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// Close closes every connection. It is safe to call more than once.
func (db *DB) Close() error {
	var err error
	db.closed.Do(func() {
		if db.read != db.write {
			err = db.read.Close()
		}
		err = errors.Join(err, db.write.Close())
	})
	return err
}

// Path is the database file (":memory:" for an in-memory database).
func (db *DB) Path() string { return db.path }

// Now is the database's clock.
func (db *DB) Now() time.Time { return db.now().UTC() }

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// IntegrityCheck runs PRAGMA integrity_check and returns its verdict ("ok" when healthy).
func (db *DB) IntegrityCheck(ctx context.Context) (string, error) {
	rows, err := db.write.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return "", err
		}
		lines = append(lines, s)
	}
	return strings.Join(lines, "\n"), rows.Err()
}

func (db *DB) checkFTS5(ctx context.Context) error {
	var used int
	if err := db.read.QueryRowContext(ctx, "SELECT sqlite_compileoption_used('ENABLE_FTS5')").Scan(&used); err != nil {
		return fmt.Errorf("open %s: %w", db.path, err)
	}
	if used != 1 {
		return ErrNoFTS5
	}
	db.hasFTS = true
	return nil
}

// HasFTS5 reports whether keyword search is available.
func (db *DB) HasFTS5() bool { return db.hasFTS }

// migrate applies, in order and one transaction each, every embedded migration not yet
// recorded in schema_migrations.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		version, convErr := strconv.Atoi(num)
		if !ok || convErr != nil {
			return fmt.Errorf("migration %q: name must start with a number and '_'", base)
		}
		if err := db.applyMigration(ctx, version, base, name); err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
	}
	return nil
}

func (db *DB) applyMigration(ctx context.Context, version int, base, name string) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			return err
		}
		if bytes.HasPrefix(body, []byte("-- cortex:requires fts5")) && !db.hasFTS {
			return nil // not recorded: a build with FTS5 applies it later
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
			version, base, formatTime(db.now()))
		return err
	})
}

// SchemaVersion is the highest migration applied.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.read.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&v)
	return v, err
}

// writeTx runs fn in a transaction on the writer connection, committing when fn returns nil.
func (db *DB) writeTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// readTx runs fn in a read-only snapshot.
func (db *DB) readTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: db.read != db.write})
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback()
	return fn(tx)
}

// isUniqueViolation reports a UNIQUE or PRIMARY KEY constraint failure.
func isUniqueViolation(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
	}
	return false
}

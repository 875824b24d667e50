package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/gofrs/flock"

	cortex "github.com/cortexhq/cortex"
	"github.com/cortexhq/cortex/api"
	"github.com/cortexhq/cortex/host"
	"github.com/cortexhq/cortex/internal/config"
	"github.com/cortexhq/cortex/store"
)

var errUsage = errors.New("usage")

// loadConfig resolves the configuration: defaults, then <data_dir>/config.toml (or
// --config), then CORTEX_* variables, then flags.
func loadConfig(args []string, lookupEnv func(string) (string, bool), stderr io.Writer) (config.Config, error) {
	cfg := config.Default()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	host := fs.String("host", cfg.Host, "address to bind (loopback by default)")
	port := fs.Int("port", cfg.Port, "port to bind; 0 picks a free one")
	dataDir := fs.String("data-dir", cfg.DataDir, "directory for the database, config.toml, plugins and caches")
	dbPath := fs.String("db-path", "", "database file (default <data-dir>/cortex.db)")
	pluginsDir := fs.String("plugins-dir", "", "user plugins folder (default <data-dir>/plugins)")
	configPath := fs.String("config", "", "config file (default <data-dir>/config.toml)")
	logLevel := fs.String("log-level", cfg.LogLevel, "debug, info, warn or error")
	parentWatch := fs.Bool("parent-watch", false, "exit when stdin closes (the parent process died)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, errUsage
		}
		return cfg, errUsage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	// The data directory decides where config.toml is, so it is resolved first.
	if v, ok := lookupEnv("CORTEX_DATA_DIR"); ok && v != "" {
		cfg.DataDir = v
	}
	if set["data-dir"] {
		cfg.DataDir = *dataDir
	}
	file := filepath.Join(cfg.DataDir, "config.toml")
	if *configPath != "" {
		file = *configPath
	}
	if err := cfg.LoadFile(file); err != nil {
		return cfg, err
	}
	if err := cfg.LoadEnv(lookupEnv); err != nil {
		return cfg, err
	}
	if set["data-dir"] {
		cfg.DataDir = *dataDir
	}
	if set["host"] {
		cfg.Host = *host
	}
	if set["port"] {
		cfg.Port = *port
	}
	if set["db-path"] {
		cfg.DBPath = *dbPath
	}
	if set["plugins-dir"] {
		cfg.PluginsDir = *pluginsDir
	}
	if set["log-level"] {
		cfg.LogLevel = *logLevel
	}
	cfg.ParentWatch = *parentWatch
	cfg.ApplyDerived()
	return cfg, cfg.Validate()
}

func serveCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(args, os.LookupEnv, stderr)
	if err != nil {
		return err
	}
	logger := newLogger(stderr, cfg.LogLevel)
	if cfg.ParentWatch {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		go func() {
			// The desktop app holds our stdin open; EOF means it is gone.
			_, _ = io.Copy(io.Discard, stdin)
			logger.Info("stdin closed; shutting down (--parent-watch)")
			cancel()
		}()
	}
	app, err := NewApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer app.Close()
	return app.Serve(ctx, func(addr string) {
		// A struct, not a map, so "event" comes first for launchers that match a prefix.
		line, _ := json.Marshal(struct {
			Event   string `json:"event"`
			Addr    string `json:"addr"`
			URL     string `json:"url"`
			PID     int    `json:"pid"`
			Version string `json:"version"`
			DataDir string `json:"data_dir"`
		}{"ready", addr, "http://" + addr, os.Getpid(), version, cfg.DataDir})
		fmt.Fprintf(stdout, "%s\n", line)
	})
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// App wires the backend once: the data-directory lock, the store, the live settings and
// the HTTP API. Close releases them in reverse order.
type App struct {
	cfg      config.Config
	log      *slog.Logger
	lock     *flock.Flock
	db       *store.DB
	settings *config.Live
	models   *host.Models
	host     *host.Host
	engine   *host.Engine
	queue    *host.Queue
	api      *api.Server
}

// processing joins the engine (runs, events) and the queue (jobs) behind the API's
// Processing interface.
type processing struct {
	*host.Engine
	*host.Queue
}

func (p processing) Subscribe(topic string) (<-chan host.RunEvent, func()) {
	return p.Engine.Broker().Subscribe(topic)
}

// NewApp opens everything the server needs. It refuses to start when another process
// holds the data directory.
func NewApp(ctx context.Context, cfg config.Config, logger *slog.Logger) (app *App, err error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	a := &App{cfg: cfg, log: logger}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	a.lock = flock.New(filepath.Join(cfg.DataDir, "cortex.lock"))
	locked, err := a.lock.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock data dir %s: %w", cfg.DataDir, err)
	}
	if !locked {
		return nil, fmt.Errorf("data dir %s: %w (is another cortex serve running?)", cfg.DataDir, store.ErrLocked)
	}
	if dir := filepath.Dir(cfg.DBPath); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create db dir: %w", err)
		}
	}
	a.db, err = store.Open(ctx, cfg.DBPath, store.Options{})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	stored, err := a.db.Settings(ctx)
	if err != nil {
		return nil, err
	}
	settings, skipped := cfg.Settings.ApplyStored(stored)
	for _, s := range skipped {
		logger.Warn("ignoring saved setting", "setting", s)
	}
	a.settings = config.NewLive(settings)
	if a.models, err = host.NewModels(settings); err != nil {
		return nil, fmt.Errorf("ai models: %w", err)
	}
	a.settings.Subscribe(func(_, next config.Settings) {
		if err := a.models.Apply(next); err != nil {
			logger.Error("apply AI settings", "err", err)
			return
		}
		if a.queue != nil {
			a.queue.CheckEmbeddingModel(context.Background())
		}
	})
	a.host, err = host.New(ctx, host.Options{
		Builtin:    cortex.Builtin,
		PluginsDir: cfg.PluginsDir,
		CacheDir:   filepath.Join(cfg.DataDir, "cache", "wasm"),
		Services: host.Services{
			Store:    a.db,
			Models:   a.models,
			Settings: func() map[string]string { return pluginSettings(a.settings.Get()) },
		},
		Logger: logger,
	})
	if err != nil {
		return nil, fmt.Errorf("plugins: %w", err)
	}

	a.engine = host.NewEngine(a.host, a.db, host.NewBroker(), logger)
	a.queue = host.NewQueue(a.db, a.engine, a.models, host.QueueOptions{
		Concurrency: func() int { return a.settings.Get().MaxConcurrentProcessing },
		Chunking: func() (int, int) {
			s := a.settings.Get()
			return s.ChunkSize, s.ChunkOverlap
		},
		Logger: logger,
	})

	var extraHosts []string
	if ip := net.ParseIP(cfg.Host); ip != nil && !ip.IsLoopback() && !ip.IsUnspecified() {
		extraHosts = append(extraHosts, cfg.Host)
	}
	a.api = api.New(api.Deps{
		Store:      a.db,
		Settings:   a.settings,
		Plugins:    a.host,
		Processing: processing{a.engine, a.queue},
		Workflows:  a.engine,
		Version:    version,
		Token:      cfg.Token,
		ExtraHosts: extraHosts,
		ServerInfo: map[string]any{
			"host": cfg.Host, "port": cfg.Port, "data_dir": cfg.DataDir,
			"db_path": cfg.DBPath, "plugins_dir": cfg.PluginsDir,
		},
		Logger: logger,
	})
	return a, nil
}

// pluginSettings are the runtime settings plugins may read through cortex_config.
func pluginSettings(s config.Settings) map[string]string {
	return map[string]string{
		"chunk_size":    strconv.Itoa(s.ChunkSize),
		"chunk_overlap": strconv.Itoa(s.ChunkOverlap),
		"fetch_urls":    strconv.FormatBool(s.FetchURLs),
		"ai_provider":   s.Provider,
	}
}

// Serve listens, calls ready with the bound address, and serves until ctx is done, then
// shuts down gracefully. SIGHUP and changes in the plugins folder reload changed plugins.
func (a *App) Serve(ctx context.Context, ready func(addr string)) error {
	queueCtx, stopQueue := context.WithCancel(ctx)
	if err := a.queue.Start(queueCtx); err != nil {
		stopQueue()
		return fmt.Errorf("start processing queue: %w", err)
	}
	// Runs interrupted here resume from their checkpoints at the next start.
	defer func() {
		stopQueue()
		a.queue.Wait()
	}()
	if err := a.host.Watch(ctx); err != nil {
		a.log.Warn("not watching the plugins folder", "dir", a.cfg.PluginsDir, "err", err)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				a.log.Info("SIGHUP: reloading changed plugins")
				if err := a.host.ReloadChanged(ctx); err != nil {
					a.log.Error("reload plugins", "err", err)
				}
			}
		}
	}()

	ln, err := net.Listen("tcp", net.JoinHostPort(a.cfg.Host, strconv.Itoa(a.cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           a.api,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.log.Info("serving", "addr", ln.Addr().String(), "data_dir", a.cfg.DataDir, "provider", a.settings.Get().Provider)
	ready(ln.Addr().String())

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// Close releases what NewApp opened, in reverse order.
func (a *App) Close() error {
	var err error
	if a.host != nil {
		err = errors.Join(err, a.host.Close(context.Background()))
	}
	if a.db != nil {
		err = errors.Join(err, a.db.Close())
	}
	if a.lock != nil {
		err = errors.Join(err, a.lock.Unlock())
	}
	return err
}

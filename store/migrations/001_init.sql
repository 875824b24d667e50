-- Items: everything the user saves. Text fields default to '' so that scans never meet NULL;
-- only url/url_norm/request_id are nullable, because their unique indexes must skip absent values.
CREATE TABLE items (
    id              TEXT PRIMARY KEY,
    url             TEXT,
    url_norm        TEXT,
    request_id      TEXT,
    title           TEXT NOT NULL DEFAULT '',
    content         TEXT NOT NULL DEFAULT '',
    content_type    TEXT NOT NULL DEFAULT '',
    content_hash    TEXT NOT NULL DEFAULT '',
    source          TEXT NOT NULL DEFAULT 'manual',
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'processing', 'ready', 'failed')),
    error           TEXT NOT NULL DEFAULT '',
    text            TEXT NOT NULL DEFAULT '',
    summary         TEXT NOT NULL DEFAULT '',
    byline          TEXT NOT NULL DEFAULT '',
    language        TEXT NOT NULL DEFAULT '',
    published_at    TEXT NOT NULL DEFAULT '',
    extractor       TEXT NOT NULL DEFAULT '',
    embedding_model TEXT NOT NULL DEFAULT '',
    word_count      INTEGER NOT NULL DEFAULT 0,
    chunk_count     INTEGER NOT NULL DEFAULT 0,
    metadata        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    latest_run_id   TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    processed_at    TEXT
);
CREATE UNIQUE INDEX items_url_norm ON items (url_norm) WHERE url_norm IS NOT NULL;
CREATE UNIQUE INDEX items_request_id ON items (request_id) WHERE request_id IS NOT NULL;
CREATE INDEX items_content_hash ON items (content_hash) WHERE content_hash != '';
CREATE INDEX items_created ON items (created_at DESC, id DESC);
CREATE INDEX items_status ON items (status, created_at);
CREATE INDEX items_source ON items (source, created_at);

-- Tags keep their origin: the user's own are never overwritten by enrichment.
CREATE TABLE item_tags (
    item_id TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    tag     TEXT NOT NULL,
    origin  TEXT NOT NULL CHECK (origin IN ('user', 'ai')),
    PRIMARY KEY (item_id, tag)
); -- a rowid table: tags list in the order they were given
CREATE INDEX item_tags_tag ON item_tags (tag);

-- Chunks: the unit of retrieval. Offsets are byte offsets into items.text.
CREATE TABLE chunks (
    id           INTEGER PRIMARY KEY,
    item_id      TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    ordinal      INTEGER NOT NULL,
    text         TEXT NOT NULL,
    heading      TEXT NOT NULL DEFAULT '',
    start_offset INTEGER NOT NULL DEFAULT 0,
    end_offset   INTEGER NOT NULL DEFAULT 0,
    token_count  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (item_id, ordinal)
);

-- One row per embedding space. Vectors of a space live in the sqlite-vec table it names,
-- keyed by chunk id; a query is only ever compared with vectors of its own space.
CREATE TABLE embedding_spaces (
    id            INTEGER PRIMARY KEY,
    provider      TEXT NOT NULL,
    model         TEXT NOT NULL,
    dimensions    INTEGER NOT NULL CHECK (dimensions > 0),
    doc_prefix    TEXT NOT NULL DEFAULT '',
    query_prefix  TEXT NOT NULL DEFAULT '',
    chunk_size    INTEGER NOT NULL DEFAULT 0,
    chunk_overlap INTEGER NOT NULL DEFAULT 0,
    table_name    TEXT NOT NULL UNIQUE,
    state         TEXT NOT NULL DEFAULT 'building'
                  CHECK (state IN ('building', 'active', 'retired')),
    created_at    TEXT NOT NULL,
    UNIQUE (provider, model, dimensions, doc_prefix, query_prefix)
);

CREATE TABLE conversations (
    id         TEXT PRIMARY KEY,
    title      TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
    content         TEXT NOT NULL,
    sources         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(sources)),
    run_id          TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_id, created_at);

-- Settings changed through the API; start-up values come from config.toml, env and flags.
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL CHECK (json_valid(value)),
    updated_at TEXT NOT NULL
) WITHOUT ROWID;

-- Durable work.
CREATE TABLE jobs (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL,
    item_id    TEXT REFERENCES items (id) ON DELETE CASCADE,
    status     TEXT NOT NULL DEFAULT 'queued'
               CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    run_after  TEXT NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    run_id     TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- A running job may coexist with one queued behind it (new content arrived mid-run); the
-- queue never runs two jobs of one item at once.
CREATE UNIQUE INDEX jobs_queued ON jobs (kind, item_id) WHERE status = 'queued';
CREATE INDEX jobs_ready ON jobs (status, run_after);

-- Workflow runs and their node-by-node history; state is the checkpoint after the last
-- finished node.
CREATE TABLE runs (
    id             TEXT PRIMARY KEY,
    workflow       TEXT NOT NULL,
    plugin         TEXT NOT NULL DEFAULT '',
    plugin_version TEXT NOT NULL DEFAULT '',
    schema_version INTEGER NOT NULL DEFAULT 0,
    item_id        TEXT REFERENCES items (id) ON DELETE CASCADE,
    status         TEXT NOT NULL DEFAULT 'running'
                   CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
    state          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(state)),
    next_node      TEXT NOT NULL DEFAULT '',
    steps          INTEGER NOT NULL DEFAULT 0,
    error          TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    finished_at    TEXT
);
CREATE INDEX runs_item ON runs (item_id, created_at);
CREATE INDEX runs_status ON runs (status);

CREATE TABLE run_nodes (
    run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    node        TEXT NOT NULL,
    attempt     INTEGER NOT NULL DEFAULT 1,
    status      TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
    error       TEXT NOT NULL DEFAULT '',
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;

-- Connections between items, stored once per pair (item_a < item_b).
CREATE TABLE connections (
    item_a     TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    item_b     TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    score      REAL NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    PRIMARY KEY (item_a, item_b),
    CHECK (item_a < item_b)
) WITHOUT ROWID;
CREATE INDEX connections_b ON connections (item_b);

CREATE TABLE digests (
    id         TEXT PRIMARY KEY,
    day        TEXT NOT NULL UNIQUE,
    content    TEXT NOT NULL CHECK (json_valid(content)),
    created_at TEXT NOT NULL
);

-- Plugin-private key/value storage (the kv capability).
CREATE TABLE plugin_kv (
    plugin     TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      BLOB NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (plugin, key)
) WITHOUT ROWID;

CREATE TABLE search_history (
    query      TEXT PRIMARY KEY,
    count      INTEGER NOT NULL DEFAULT 1,
    last_used  TEXT NOT NULL
) WITHOUT ROWID;

-- cortex:requires fts5
-- Indexes for search suggestions. chunks_fts is stemmed ("machine" is stored as "machin"),
-- which suits ranking but not completing a word the user is typing, so words are indexed
-- again unstemmed: detail=none keeps that index small (no positions, just which rows).
CREATE VIRTUAL TABLE words_fts USING fts5 (
    text,
    content = '',
    contentless_delete = 1,
    detail = none,
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE words_vocab USING fts5vocab (words_fts, 'row');

CREATE TRIGGER words_fts_insert AFTER INSERT ON chunks BEGIN
    INSERT INTO words_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER words_fts_delete AFTER DELETE ON chunks BEGIN
    DELETE FROM words_fts WHERE rowid = old.id;
END;
CREATE TRIGGER words_fts_update AFTER UPDATE OF text ON chunks BEGIN
    DELETE FROM words_fts WHERE rowid = old.id;
    INSERT INTO words_fts (rowid, text) VALUES (new.id, new.text);
END;
INSERT INTO words_fts (rowid, text) SELECT id, text FROM chunks;

-- Titles, with prefix indexes so a half-typed word finds them at once.
CREATE VIRTUAL TABLE titles_fts USING fts5 (
    title,
    content = '',
    contentless_delete = 1,
    prefix = '1 2 3',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER titles_fts_insert AFTER INSERT ON items BEGIN
    INSERT INTO titles_fts (rowid, title) VALUES (new.rowid, new.title);
END;
CREATE TRIGGER titles_fts_delete AFTER DELETE ON items BEGIN
    DELETE FROM titles_fts WHERE rowid = old.rowid;
END;
CREATE TRIGGER titles_fts_update AFTER UPDATE OF title ON items
WHEN old.title IS NOT new.title BEGIN
    DELETE FROM titles_fts WHERE rowid = old.rowid;
    INSERT INTO titles_fts (rowid, title) VALUES (new.rowid, new.title);
END;
INSERT INTO titles_fts (rowid, title) SELECT rowid, title FROM items;

-- cortex:requires fts5
-- (Skipped, and applied later, when SQLite lacks FTS5: only the plugin harness opens a
-- store that way, so plugin authors' tests need no build tag.)
-- Keyword index over chunk text and the item title (repeated per chunk so BM25 can weight
-- it). Contentless: the text lives once, in chunks; triggers keep the index in step with
-- every write path, including the cascade from deleting an item.
CREATE VIRTUAL TABLE chunks_fts USING fts5 (
    title, text,
    content = '',
    contentless_delete = 1,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts (rowid, title, text)
    SELECT new.id, i.title, new.text FROM items i WHERE i.id = new.item_id;
END;
CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
    DELETE FROM chunks_fts WHERE rowid = old.id;
END;
CREATE TRIGGER chunks_fts_update AFTER UPDATE OF text ON chunks BEGIN
    DELETE FROM chunks_fts WHERE rowid = old.id;
    INSERT INTO chunks_fts (rowid, title, text)
    SELECT new.id, i.title, new.text FROM items i WHERE i.id = new.item_id;
END;
CREATE TRIGGER items_title_fts AFTER UPDATE OF title ON items
WHEN old.title IS NOT new.title BEGIN
    DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE item_id = new.id);
    INSERT INTO chunks_fts (rowid, title, text)
    SELECT c.id, new.title, c.text FROM chunks c WHERE c.item_id = new.id;
END;

-- Index chunks written while this migration was pending.
INSERT INTO chunks_fts (rowid, title, text)
SELECT c.id, i.title, c.text FROM chunks c JOIN items i ON i.id = c.item_id;

-- Declaration sets a blueprint assigns to each device it runs on (docs/declarative.md): a JSON
-- array of set names. With the blueprint's enrollment tokens, this is assignment by enrollment
-- token.
ALTER TABLE blueprints ADD COLUMN declaration_sets TEXT NOT NULL DEFAULT '[]';

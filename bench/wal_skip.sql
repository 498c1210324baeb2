-- What a first import would gain from truncating its empty tables in its own transaction
-- (measured and not built: bench/results/imports.md, runs 47-57), on the server at hand:
-- the citizens of a database a first import filled, loaded into a bare copy of their table
-- with its primary key and NIK index built after, twice each way:
--   logged:    into a table whose files are older than the loading transaction;
--   truncated: the same, truncated first in the loading transaction.
-- With `wal_level = minimal` the truncated load writes no WAL (its files are synced at
-- commit instead); with `replica` both write it all. Prints each load's time (COMMIT
-- included) and WAL. Run with psql as a superuser (CHECKPOINT), for example
--   .venv/bin/python -m bench.imports --keep --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/wal_skip
--   psql -h 127.0.0.1 -U postgres -d wal_skip -f bench/wal_skip.sql
-- It drops its table at the end.
\set ON_ERROR_STOP on
SHOW wal_level;
DROP TABLE IF EXISTS wal_skip_citizens;
CREATE TABLE wal_skip_citizens (LIKE citizens INCLUDING DEFAULTS);
SELECT count(*) AS citizens FROM citizens;

\set how logged
\ir wal_skip_load.sql
\set how truncated
\ir wal_skip_load.sql
\set how logged
\ir wal_skip_load.sql
\set how truncated
\ir wal_skip_load.sql

DROP TABLE wal_skip_citizens;

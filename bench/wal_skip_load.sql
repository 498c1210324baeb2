-- One load of `bench/wal_skip.sql` (which sets :how to logged or truncated).
ALTER TABLE wal_skip_citizens DROP CONSTRAINT IF EXISTS wal_skip_citizens_pkey;
DROP INDEX IF EXISTS wal_skip_citizens_nik;
TRUNCATE wal_skip_citizens;
CHECKPOINT;
SELECT clock_timestamp() AS started, pg_current_wal_lsn() AS wal_from \gset
BEGIN;
SELECT :'how' = 'truncated' AS truncate_first \gset
\if :truncate_first
TRUNCATE wal_skip_citizens;
\endif
INSERT INTO wal_skip_citizens SELECT * FROM citizens;
ALTER TABLE wal_skip_citizens ADD CONSTRAINT wal_skip_citizens_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX wal_skip_citizens_nik ON wal_skip_citizens (nik);
COMMIT;
SELECT :'how' AS load,
       round(CAST(extract(epoch FROM clock_timestamp() - :'started') AS numeric), 2) AS seconds,
       round((pg_current_wal_lsn() - :'wal_from') / 1048576) AS wal_mb;

-- The citizens' insert of a first import, by INSERT ... SELECT and by a COPY round trip
-- (bench/results/imports.md, runs 43-46): run against a database a first import filled,
--   psql -U postgres -h 127.0.0.1 main_bench -f bench/copy_round_trip.sql
-- as a superuser (server-side COPY writes /tmp/hub_copy_round_trip.*). Each load goes into
-- a bare copy of `citizens` after a CHECKPOINT; the copies are dropped at the end.
\set ON_ERROR_STOP on
\timing on
SET jit = off;
SET work_mem = '256MB';
DROP TABLE IF EXISTS bench_citizens_insert, bench_citizens_copy;
CREATE TABLE bench_citizens_insert (LIKE citizens INCLUDING DEFAULTS);
CREATE TABLE bench_citizens_copy (LIKE citizens INCLUDING DEFAULTS);
-- The insert both INSERT loads run (replanned after the key is added).
PREPARE insert_citizens AS
INSERT INTO bench_citizens_insert (nik, full_name, birth_date, sex, household_id,
    relationship, has_disability, has_chronic_illness, ppks_code, household_since,
    created_at, updated_at, version, changed_via, changed_by_import_id, dtks_listed)
  SELECT nik, full_name, birth_date, sex, household_id, relationship, has_disability,
    has_chronic_illness, ppks_code, household_since, created_at, updated_at, version,
    changed_via, changed_by_import_id, dtks_listed
  FROM citizens;

\echo INSERT ... SELECT, id from the sequence, no key
CHECKPOINT;
EXECUTE insert_citizens;

\echo the same with the primary key
TRUNCATE bench_citizens_insert;
ALTER TABLE bench_citizens_insert ADD PRIMARY KEY (id);
CHECKPOINT;
EXECUTE insert_citizens;

\echo COPY out to a binary file, then COPY it in (no key)
CHECKPOINT;
COPY (SELECT * FROM citizens) TO '/tmp/hub_copy_round_trip.bin' BINARY;
CHECKPOINT;
COPY bench_citizens_copy FROM '/tmp/hub_copy_round_trip.bin' BINARY;

\echo COPY that binary file in again, with the primary key
TRUNCATE bench_citizens_copy;
ALTER TABLE bench_citizens_copy ADD PRIMARY KEY (id);
CHECKPOINT;
COPY bench_citizens_copy FROM '/tmp/hub_copy_round_trip.bin' BINARY;
ALTER TABLE bench_citizens_copy DROP CONSTRAINT bench_citizens_copy_pkey;

\echo COPY out to a text file, then COPY it in (no key)
TRUNCATE bench_citizens_copy;
CHECKPOINT;
COPY (SELECT * FROM citizens) TO '/tmp/hub_copy_round_trip.txt';
CHECKPOINT;
COPY bench_citizens_copy FROM '/tmp/hub_copy_round_trip.txt';

DROP TABLE bench_citizens_insert, bench_citizens_copy;
\! rm -f /tmp/hub_copy_round_trip.bin /tmp/hub_copy_round_trip.txt

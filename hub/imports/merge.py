"""The set-based half of an import: staging tables, whole-file checks, and the month's merge.

Valid rows are staged in a temporary table (`import_rows`; COPY on PostgreSQL, executemany
on SQLite), rows refused on their own in another (`import_refused`). Then, in SQL over the
whole file:

1. a NIK listed again after its first row is refused (`DUPLICATE_NIK`);
2. a household is refused whole when any member row was refused, when its rows disagree on
   the KK number, kelurahan, address or RT/RW, or when its KK number belongs to another
   household; its other rows are refused too (`HOUSEHOLD`), so that no household is ever
   half imported;
3. households (by DTKS id, else an undisputed KK number) and citizens (by NIK) are sorted
   into new, changed, unchanged; registry records the previous file listed and this one does
   not are no longer listed;
4. unless it is a dry run, the differences are applied: a KK number that changed is closed
   in `household_kk_numbers`, a citizen who moved to another household has the old
   membership kept in `citizen_household_history`, and every changed record's version,
   provenance and changed fields are set.

Households and citizens refused this month are left as they are, not delisted. Each step is
one statement over the whole file; the sorting writes new tables (CREATE TABLE … AS) rather
than rewriting staged rows, which on PostgreSQL costs a new row version each.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.db import UTCDateTime
from hub.imports.bulk import BULK_MIN_ROWS, rebuilt_around, worth_rebuilding
from hub.imports.validate import STAGED_COLUMNS, StagedRow

# `{c}`: COLLATE "C" on PostgreSQL. The staged values are compared and grouped byte by
# byte; the database's collation (strcoll) made every min/max and sort several times dearer.
_ROWS_DDL = """
CREATE TEMPORARY TABLE import_rows (
    line INTEGER NOT NULL,
    iddtks VARCHAR(32){c} NOT NULL,
    kk_number VARCHAR(16){c} NOT NULL,
    kelurahan_code VARCHAR(13){c} NOT NULL,
    kecamatan_code VARCHAR(13){c} NOT NULL,
    address VARCHAR(200){c} NOT NULL,
    rt VARCHAR(3){c} NOT NULL,
    rw VARCHAR(3){c} NOT NULL,
    nik VARCHAR(16){c} NOT NULL,
    full_name VARCHAR(120) NOT NULL,
    birth_date DATE NOT NULL,
    sex VARCHAR(1) NOT NULL,
    relationship VARCHAR(12) NOT NULL,
    ppks_code VARCHAR(40)
)"""
_REFUSED_DDL = """
CREATE TEMPORARY TABLE import_refused (
    line INTEGER NOT NULL, iddtks TEXT{c} NOT NULL, nik TEXT{c} NOT NULL
)"""
_BAD_DDL = """
CREATE TEMPORARY TABLE import_bad_households (
    iddtks TEXT{c} NOT NULL, reason VARCHAR(16) NOT NULL, line INTEGER NOT NULL
)"""
#: One row per household of each staged batch (`hub.imports.columnar.digest`).
_PARTIALS_DDL = """
CREATE TEMPORARY TABLE import_partials (
    iddtks VARCHAR(32){c} NOT NULL,
    kk_number VARCHAR(16){c} NOT NULL, kk_last VARCHAR(16){c} NOT NULL,
    kelurahan_code VARCHAR(13){c} NOT NULL, kel_last VARCHAR(13){c} NOT NULL,
    kecamatan_code VARCHAR(13){c} NOT NULL,
    address VARCHAR(200){c} NOT NULL, address_last VARCHAR(200){c} NOT NULL,
    rt VARCHAR(3){c} NOT NULL, rt_last VARCHAR(3){c} NOT NULL,
    rw VARCHAR(3){c} NOT NULL, rw_last VARCHAR(3){c} NOT NULL,
    line INTEGER NOT NULL
)"""
_DUPLICATES_DDL = """
CREATE TEMPORARY TABLE import_duplicates (nik VARCHAR(16){c} NOT NULL, first INTEGER NOT NULL)"""
#: The households met in more than one batch (`hub.imports.columnar.repeated_households`).
_SPLIT_DDL = "CREATE TEMPORARY TABLE import_split (iddtks VARCHAR(32){c} NOT NULL)"
#: One row per household from its partial rows (`{where}`: which households).
_GROUPED = """SELECT iddtks, min(kk_number) AS kk_number, max(kk_last) AS kk_last,
    min(kelurahan_code) AS kelurahan_code, max(kel_last) AS kel_last,
    min(kecamatan_code) AS kecamatan_code, min(address) AS address,
    max(address_last) AS address_last, min(rt) AS rt, max(rt_last) AS rt_last,
    min(rw) AS rw, max(rw_last) AS rw_last, min(line) AS line
    FROM import_partials {where} GROUP BY iddtks"""
#: Group every household's partial rows again, rather than only the split ones, when the
#: split households are more than this share of the partial rows (a file not listed
#: household by household): deleting and inserting theirs would cost more.
_SPLIT_SHARE = 0.25
_TEMP_TABLES = (
    "import_rows", "import_refused", "import_bad_households", "import_duplicates",
    "import_partials", "import_split", "import_joined",
    "import_groups", "import_households", "import_refusals",
    "import_citizens", "import_gone_households", "import_gone_citizens",
)  # fmt: skip

#: The statistics target of this transaction's ANALYZE of its staging tables.
_STATISTICS_TARGET = 10

#: Why a household was refused whole (the rejects file says it in words).
HOUSEHOLD_REASONS = {
    "MEMBER": (
        "keluarga ditolak utuh: anggota di baris {line} ditolak",
        "household refused whole: its member at line {line} was refused",
    ),
    "INCONSISTENT": (
        "keluarga ditolak utuh: baris-barisnya berbeda nomor KK, kelurahan, alamat atau RT/RW",
        "household refused whole: its rows differ in KK number, kelurahan, address or RT/RW",
    ),
    "KK_SHARED": (
        "keluarga ditolak utuh: nomor KK-nya juga dipakai IDDTKS lain dalam berkas",
        "household refused whole: its KK number is also used by another IDDTKS in the file",
    ),
    "KK_TAKEN": (
        "keluarga ditolak utuh: nomor KK-nya milik keluarga lain di hub",
        "household refused whole: its KK number belongs to another household in the hub",
    ),
}


def staged_csv(frame: Any) -> bytes:
    """A polars frame of staged rows encoded for COPY … (FORMAT csv), by polars rather than
    row by row: every value is one a plain check accepted (no line break); only ppks_code
    may be NULL (written empty, unquoted)."""
    data = io.BytesIO()
    frame.write_csv(data, include_header=False)
    return data.getvalue()


#: Slices a batch's frame is encoded in for COPY (`staged_csv_slices`).
_COPY_SLICES = 4


async def staged_csv_slices(frame: Any, *, slices: int = _COPY_SLICES) -> AsyncIterator[bytes]:
    """`staged_csv(frame)` a slice at a time, each encoded in a worker thread (polars lets
    go of the GIL) while the connection sends the one before and the database parses it,
    rather than the batch encoded whole before its COPY (a first import of 2.6 million rows
    spent 4.1 s encoding and 7.9 s copying, one after the other). Measured on that import
    (bench/results/imports.md, runs 65-73): no faster, as the checks keep the two cores
    busy, but its peak memory 437-456 MiB where encoding whole batches took 501-529."""
    loop = asyncio.get_running_loop()
    size = -(-frame.height // slices)
    parts = [frame.slice(start, size) for start in range(0, frame.height, size)]
    encoding = loop.run_in_executor(None, staged_csv, parts[0])
    for following in [*parts[1:], None]:
        encoded = await encoding
        if following is not None:
            encoding = loop.run_in_executor(None, staged_csv, following)
        yield encoded


@dataclass
class Counts:
    """How many records of one kind are new, changed, moved, unchanged or no longer listed."""

    new: int = 0
    changed: int = 0
    #: Citizens only: changed household (a subset of `changed`).
    moved: int = 0
    unchanged: int = 0
    delisted: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts by name."""
        return {
            "new": self.new,
            "changed": self.changed,
            "moved": self.moved,
            "unchanged": self.unchanged,
            "delisted": self.delisted,
        }


@dataclass
class Stage:
    """The staging tables of one import on one connection."""

    connection: AsyncConnection
    staged: int = 0
    refused_rows: int = 0
    #: An insert of at least this many rows into a table no bigger than it rebuilds the
    #: table's indexes and foreign keys afterwards (PostgreSQL; `hub.imports.bulk`).
    bulk_min_rows: int = BULK_MIN_ROWS
    #: The registry tables whose indexes and foreign keys this import rebuilt.
    rebuilt: list[str] = field(default_factory=list)
    _copy: bool = field(init=False, default=False)
    #: The staged rows' NIKs and lines, batch by batch (`Digest.niks`, `.other_niks`).
    _niks: list[Any] = field(init=False, default_factory=list)
    _other_niks: list[Any] = field(init=False, default_factory=list)
    #: The DTKS ids of each batch's households (one each: `Digest.groups`).
    _households: list[Any] = field(init=False, default_factory=list)
    #: How many of `_niks` (and `_other_niks`, `_households`) hold 32 batches' worth each.
    _niks_kept: int = field(init=False, default=0)
    _ids_assigned: bool = field(init=False, default=False)
    #: No citizen before this import (PostgreSQL): new citizens come from the staged rows.
    _new_from_rows: bool = field(init=False, default=False)

    @property
    def dialect(self) -> str:
        """`postgresql` or `sqlite`."""
        return self.connection.dialect.name

    async def create(self) -> None:
        """Create the (empty) staging tables; they vanish with the connection."""
        if self.dialect == "postgresql":
            await self._tune()
        for name in _TEMP_TABLES:
            await self.connection.execute(text(f"DROP TABLE IF EXISTS {name}"))
        collate = ' COLLATE "C"' if self.dialect == "postgresql" else ""
        for ddl in (_ROWS_DDL, _REFUSED_DDL, _BAD_DDL, _PARTIALS_DDL):
            await self.connection.execute(text(ddl.format(c=collate)))
        self._copy = self.dialect == "postgresql" and self.connection.dialect.driver == "asyncpg"

    async def _tune(self) -> None:
        """Settings for this transaction's big statements: no JIT (compiling each statement
        costs more than it saves here), memory enough to hash the file's NIKs and households
        and to build an index in one pass, temporary tables kept in memory."""
        settings = (
            "jit = off",
            "work_mem = '256MB'",
            # A hash (of the file's NIKs, of its 805,000 households with their least and
            # greatest values: 430-530 MB for 2.6 million rows) may take 1 GB before it
            # spills to disk in batches (measured: households grouped 4.3-4.8 -> 3.9 s).
            "hash_mem_multiplier = 4",
            "maintenance_work_mem = '256MB'",
            # ANALYZE of a staging table samples 3,000 rows rather than 30,000: row counts
            # and distinct values are all the merge's plans need.
            f"default_statistics_target = {_STATISTICS_TARGET}",
        )
        for setting in settings:
            await self.connection.execute(text(f"SET LOCAL {setting}"))
        # temp_buffers can only change before the session's first temporary table; a
        # connection that already had one keeps its own.
        savepoint = await self.connection.begin_nested()
        try:
            await self.connection.execute(text("SET LOCAL temp_buffers = '256MB'"))
        except DBAPIError:
            await savepoint.rollback()
        else:
            await savepoint.commit()

    async def _insert(
        self,
        table: str,
        sql: str,
        *,
        rows: int,
        bulk: Sequence[str] = (),
        primary_key: bool = False,
        **params: Any,
    ) -> None:
        """Run the INSERT `sql` of `rows` rows into `table`, around a rebuild of the table's
        indexes and foreign keys (with `primary_key`, its key too) when the insert is big
        beside the table; then `bulk`, if given, are the statements run instead (an upsert
        needs the key the rebuild drops)."""
        if self.dialect == "postgresql" and rows >= self.bulk_min_rows:
            existing = await self._scalar(
                f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT :n) AS s", n=rows + 1
            )
            if worth_rebuilding(rows, existing, minimum=self.bulk_min_rows):
                async with rebuilt_around(self.connection, table, primary_key=primary_key):
                    for statement in bulk or (sql,):
                        await self._run(statement, **params)
                # Statistics of what was just loaded, as after any bulk load (at the
                # server's statistics target, not this transaction's): the plans of the
                # next import (and of every query until autovacuum comes) need them, e.g.
                # to hash the citizens of a next month in memory rather than in batches.
                await self._run("SET LOCAL default_statistics_target TO DEFAULT")
                await self._run(f"ANALYZE {table}")
                await self._run(f"SET LOCAL default_statistics_target = {_STATISTICS_TARGET}")
                self.rebuilt.append(table)
                return
        await self._run(sql, **params)

    async def add(
        self,
        rows: Sequence[StagedRow],
        refused: Sequence[tuple[int, str, str]],
        frame: Any = None,
    ) -> None:
        """Stage valid rows, then those of `frame` (a polars frame of the same columns, from
        `hub.imports.columnar`), and the (line, iddtks, nik) of rows refused on their own.

        The rows' digest (`hub.imports.columnar.digest`) is taken in a worker thread while
        the rows are copied: its households are staged in `import_partials` and its NIKs
        kept, so that `check_file` groups one row per household and batch rather than the
        whole file again. The frame is encoded for COPY in another worker thread, beside
        the digest, rather than in the thread that checks the next rows, a slice at a time
        as the COPY takes them (`staged_csv_slices`)."""
        loop = asyncio.get_running_loop()
        staged = len(rows) + (0 if frame is None else frame.height)
        digesting = None
        if staged:
            parts = [frame] if frame is not None and frame.height else []
            digesting = loop.run_in_executor(None, _digest, list(rows), parts)
        if self._copy:
            raw = await self.connection.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            if rows:
                await driver.copy_records_to_table(
                    "import_rows", records=rows, columns=STAGED_COLUMNS
                )
            if frame is not None and frame.height:
                await driver.copy_to_table(
                    "import_rows",
                    source=staged_csv_slices(frame),
                    columns=STAGED_COLUMNS,
                    format="csv",
                    force_not_null=[c for c in STAGED_COLUMNS if c != "ppks_code"],
                )
        else:
            marks = ", ".join("?" for _ in STAGED_COLUMNS)
            if frame is not None and frame.height:
                import polars as pl

                dated = frame.with_columns(pl.col("birth_date").cast(pl.String))
                rows = [*rows, *dated.iter_rows()]
            if rows:
                # sqlite3's own date adapter is deprecated; dates go in as ISO text.
                await self.connection.exec_driver_sql(
                    f"INSERT INTO import_rows ({', '.join(STAGED_COLUMNS)}) VALUES ({marks})",
                    [
                        (*r[:10], r[10] if isinstance(r[10], str) else r[10].isoformat(), *r[11:])
                        for r in rows
                    ],
                )
        if refused:
            await self._copy_in("import_refused", ("line", "iddtks", "nik"), refused)
        if digesting is not None:
            await self._stage_digest(await digesting)
        self.staged += staged
        self.refused_rows += len(refused)

    async def _stage_digest(self, digest: Any) -> None:
        """Keep a batch's NIKs, and stage its households' rows in `import_partials`."""
        self._keep(digest)
        groups = digest.groups
        if not groups.height:
            return
        columns = list(groups.columns)
        if self._copy:
            raw = await self.connection.get_raw_connection()
            assert raw.driver_connection is not None
            await raw.driver_connection.copy_to_table(
                "import_partials",
                source=io.BytesIO(staged_csv(groups)),
                columns=columns,
                format="csv",
                force_not_null=columns,
            )
        else:
            await self._copy_in("import_partials", columns, list(groups.iter_rows()))

    def _keep(self, digest: Any) -> None:
        """Keep the NIKs and household ids of a batch's digest: every 32 batches' worth
        in one frame, the
        frames kept so far left as they are (copying them all into one again each time
        held two copies of the file's NIKs at once, and left polars' allocator with the
        freed ones)."""
        self._niks.append(digest.niks)
        self._other_niks.append(digest.other_niks)
        self._households.append(digest.groups.get_column("iddtks"))
        if len(self._niks) - self._niks_kept >= 32:  # (fewer, bigger frames: less overhead)
            import polars as pl

            kept = self._niks_kept
            self._niks[kept:] = [pl.concat(self._niks[kept:], rechunk=True)]
            self._other_niks[kept:] = [pl.concat(self._other_niks[kept:], rechunk=True)]
            self._households[kept:] = [pl.concat(self._households[kept:], rechunk=True)]
            self._niks_kept += 1

    async def _run(self, sql: str, **params: Any) -> int:
        result = await self.connection.execute(_statement(sql, params), params)
        return int(result.rowcount or 0)

    async def _scalar(self, sql: str, **params: Any) -> int:
        return int(await self.connection.scalar(_statement(sql, params), params) or 0)

    async def check_file(self, *, assign_ids: bool = False) -> None:
        """Refuse repeated NIKs and the households with any refused row (steps 1 and 2).

        The file is read in SQL once per question that needs all of it: its NIKs (repeats),
        its households (one row each, with the least and greatest of every value that must
        agree), and nothing else; the rest works on those smaller tables. With
        `assign_ids` (PostgreSQL, not a dry run) each new household draws its id from the
        households' sequence here, so that it is inserted with it and nothing is updated.
        """
        run = self._run
        # No index on the staged rows: every question below reads them whole (a hash of
        # the smaller side), and building one sorts the file under the database's
        # collation (measured: 28 s for 2.6 million NIKs, more than the scans it saves).
        await run("CREATE INDEX import_refused_nik ON import_refused (nik)")
        await run("CREATE INDEX import_refused_iddtks ON import_refused (iddtks)")
        if self.dialect == "postgresql":
            await run("ANALYZE import_rows")
            await run("ANALYZE import_refused")
        # The NIKs listed more than once, and the households met in more than one batch,
        # found from those kept batch by batch.
        from hub.imports.columnar import repeated_households, repeated_niks

        repeats = repeated_niks(self._niks, self._other_niks)
        split = repeated_households(self._households)
        partials = sum(ids.len() for ids in self._households)
        self._niks, self._other_niks, self._households, self._niks_kept = [], [], [], 0
        collate = ' COLLATE "C"' if self.dialect == "postgresql" else ""
        await run(_DUPLICATES_DDL.format(c=collate))
        if repeats.height:
            await self._copy_in("import_duplicates", ("nik", "first"), list(repeats.iter_rows()))
        if self.dialect == "postgresql":
            # Its true (small) size, so that the joins below hash it, not the staged rows.
            await run("ANALYZE import_duplicates")
            await run("ANALYZE import_partials")
        await run(
            """INSERT INTO import_bad_households (iddtks, reason, line)
               SELECT iddtks, 'MEMBER', min(line) FROM import_refused GROUP BY iddtks"""
        )
        # The first line of a member whose NIK an earlier row already listed.
        await run(
            """INSERT INTO import_bad_households (iddtks, reason, line)
               SELECT r.iddtks, 'MEMBER', min(r.line)
               FROM import_rows r JOIN import_duplicates d ON d.nik = r.nik
               WHERE r.line > d.first GROUP BY r.iddtks"""
        )
        await self._group_households(split, partials=partials)
        if self.dialect == "postgresql":
            # Its size (the aggregate's estimate is a twentieth of it), so that the joins
            # of a next month hash it rather than sort it with the households.
            await run("ANALYZE import_groups")
        await run(
            """INSERT INTO import_bad_households (iddtks, reason, line)
               SELECT iddtks, 'INCONSISTENT', line FROM import_groups
               WHERE kk_number <> kk_last OR kelurahan_code <> kel_last
                  OR address <> address_last OR rt <> rt_last OR rw <> rw_last"""
        )
        # Every (household, KK number) pair: one per household whose rows agree, and each
        # distinct one of the few households whose rows do not.
        await run(
            """INSERT INTO import_bad_households (iddtks, reason, line)
               WITH pairs AS (
                   SELECT iddtks, kk_number, line FROM import_groups WHERE kk_number = kk_last
                   UNION ALL
                   SELECT iddtks, kk_number, min(line) FROM import_rows
                   WHERE iddtks IN (SELECT iddtks FROM import_groups
                                    WHERE kk_number <> kk_last)
                   GROUP BY iddtks, kk_number)
               SELECT iddtks, 'KK_SHARED', min(line) FROM pairs
               WHERE kk_number IN (SELECT kk_number FROM pairs
                                   GROUP BY kk_number HAVING count(*) > 1)
               GROUP BY iddtks"""
        )
        new_id = "NULL"
        if assign_ids and self.dialect == "postgresql":
            # The sequence by name, as the column's default names it: looked up once, not
            # per row (pg_get_serial_sequence for each of 805,000 new households took 3.7-5.9
            # s, nextval itself 0.25-0.39 s).
            sequence = await self.connection.scalar(
                text("SELECT pg_get_serial_sequence('households', 'id')")
            )
            quoted = str(sequence).replace("'", "''")
            new_id = f"nextval(CAST('{quoted}' AS regclass))"

        # In one pass over the good households: the registry household each one is (`h`:
        # by DTKS id, `d`, else a family the hub knows only by its KK number, pushed by an
        # agency, `k`), how it differs from it, and whether its KK number belongs to another
        # registry household (`taken`: refused below, drawing no id). `h` is read from `d`
        # or `k` rather than joined once more by id (805,000 rows hashed again).
        h = _matched
        # Looked up (through the unique index) only for a household that is new or whose
        # KK number changed: a next month's few thousand, not a hash of every household;
        # and not at all when the hub has no household (a first import: 805,000 lookups).
        taken = f"""(({h("id")} IS NULL OR {h("kk_number")} <> m.kk_number)
            AND EXISTS (SELECT 1 FROM households t WHERE t.kk_number = m.kk_number
                        AND ({h("id")} IS NULL OR t.id <> {h("id")})))"""
        anyone = await self._scalar("SELECT count(*) FROM (SELECT 1 FROM households LIMIT 1) AS h")
        if not anyone:
            taken = "(1 = 0)"
        await run(
            f"""CREATE TEMPORARY TABLE import_households AS
                SELECT m.iddtks, m.kk_number, m.kelurahan_code, m.kecamatan_code, m.address,
                  m.rt, m.rw, m.line,
                  CASE WHEN {h("id")} IS NOT NULL THEN {h("id")}
                       WHEN NOT {taken} THEN {new_id} END AS household_id,
                  CASE WHEN {h("id")} IS NULL THEN 'NEW'
                       WHEN {h(_HOUSEHOLD_DIFF)} THEN 'CHANGED' ELSE 'UNCHANGED' END AS status,
                  {h(_HOUSEHOLD_FIELDS)} AS changed_fields,
                  CASE WHEN {h("kk_number")} <> m.kk_number THEN 1 ELSE 0 END AS kk_changed,
                  CASE WHEN {taken} THEN 1 ELSE 0 END AS taken
                FROM import_groups m
                LEFT JOIN households d ON d.dtks_id = m.iddtks
                LEFT JOIN households k ON d.id IS NULL AND k.dtks_id IS NULL
                                      AND k.kk_number = m.kk_number
                WHERE m.iddtks NOT IN (SELECT iddtks FROM import_bad_households)"""
        )
        self._ids_assigned = new_id != "NULL"
        if anyone:
            await run(
                """INSERT INTO import_bad_households (iddtks, reason, line)
                   SELECT iddtks, 'KK_TAKEN', line FROM import_households WHERE taken = 1"""
            )
            # Few rows, if any: deleting them rewrites nothing else.
            await run("DELETE FROM import_households WHERE taken = 1")
        if self.dialect == "sqlite":
            # PostgreSQL's households no longer listed are found through it (805,000 rows
            # where the staged rows are 2.6 million); SQLite's through the staged rows'
            # index.
            await run("DROP TABLE import_groups")
        if self.dialect == "sqlite":
            # SQLite joins through an index; PostgreSQL hashes the smaller side and would
            # only spend seconds building it.
            await run("CREATE UNIQUE INDEX import_households_iddtks ON import_households (iddtks)")
        if self.dialect == "postgresql":
            await run("ANALYZE import_bad_households")
        # Every refused row with its reason, once: the rejects file pages through this
        # small table, and the accepted rows are the staged ones not in it.
        await run(
            """CREATE TEMPORARY TABLE import_refusals AS
               SELECT r.line,
                      CASE WHEN r.line > d.first THEN 'DUPLICATE_NIK' ELSE 'HOUSEHOLD' END
                        AS kind,
                      CASE WHEN r.line > d.first THEN r.nik ELSE r.iddtks END AS value,
                      CASE WHEN r.line > d.first THEN '' ELSE b.reason END AS reason,
                      CASE WHEN r.line > d.first THEN d.first ELSE b.line END AS other
               FROM import_rows r
               LEFT JOIN import_duplicates d ON d.nik = r.nik
               LEFT JOIN (SELECT iddtks, min(reason) AS reason, min(line) AS line
                          FROM import_bad_households GROUP BY iddtks) AS b
                 ON b.iddtks = r.iddtks
               WHERE r.line > d.first OR b.iddtks IS NOT NULL"""
        )
        await run("CREATE UNIQUE INDEX import_refusals_line ON import_refusals (line)")
        if self.dialect == "postgresql":
            await run("ANALYZE import_households")

    async def _group_households(self, split: Any, *, partials: int) -> None:
        """`import_groups`: one row per household, the least and greatest of each value its
        rows must share (they differ exactly when the rows disagree) and its first line,
        from those of each batch (`import_partials`: a row per household and batch, where
        the staged rows are one per citizen).

        A household whose rows all came in one batch has one partial row, already its
        group: only those met in more than one batch (a few at each batch's edge, in a
        file listed household by household) are grouped again, in place. Grouping all
        805,000 households took 4.6-5.3 s of a 2.6-million-row import.

        `split`: the DTKS ids met in more than one batch; `partials`: the partial rows."""
        from hub.imports.columnar import GROUP_COLUMNS

        run = self._run
        if split.len() > _SPLIT_SHARE * partials:
            await run("CREATE TEMPORARY TABLE import_groups AS " + _GROUPED.format(where=""))
            await run("DROP TABLE import_partials")
            return
        if split.len():
            collate = ' COLLATE "C"' if self.dialect == "postgresql" else ""
            await run(_SPLIT_DDL.format(c=collate))
            await self._copy_in("import_split", ("iddtks",), [(v,) for v in split])
            if self.dialect == "postgresql":
                await run("ANALYZE import_split")
            chosen = "WHERE iddtks IN (SELECT iddtks FROM import_split)"
            await run("CREATE TEMPORARY TABLE import_joined AS " + _GROUPED.format(where=chosen))
            await run(f"DELETE FROM import_partials {chosen}")
            columns = ", ".join(GROUP_COLUMNS)
            await run(
                f"INSERT INTO import_partials ({columns}) SELECT {columns} FROM import_joined"
            )
            await run("DROP TABLE import_joined")
            await run("DROP TABLE import_split")
        await run("ALTER TABLE import_partials RENAME TO import_groups")

    async def _copy_in(self, table: str, columns: Sequence[str], rows: Sequence[Any]) -> None:
        """Insert `rows` (tuples of `columns`) into the staging table `table`."""
        if self._copy:
            raw = await self.connection.get_raw_connection()
            assert raw.driver_connection is not None
            await raw.driver_connection.copy_records_to_table(table, records=rows, columns=columns)
        else:
            await self.connection.exec_driver_sql(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' for _ in columns)})",
                list(rows),
            )

    async def set_refusals(
        self, *, page: int = 10_000
    ) -> AsyncIterator[tuple[int, str, str, str, int | None]]:
        """Rows refused by the whole-file checks, in line order, `page` at a time (memory
        stays bounded however many there are): (line, kind, value, reason, other line)."""
        after = 0
        while True:
            rows = (
                await self.connection.execute(
                    text(
                        """SELECT line, kind, value, reason, other FROM import_refusals
                           WHERE line > :after ORDER BY line LIMIT :page"""
                    ),
                    {"after": after, "page": page},
                )
            ).all()
            for line, kind, value, reason, other in rows:
                yield line, kind, value, reason, other
            if len(rows) < page:
                return
            after = rows[-1][0]

    async def accepted(self) -> int:
        """Rows that passed every check."""
        refused = await self._scalar("SELECT count(*) FROM import_refusals")
        return self.staged - refused

    async def households(self) -> Counts:
        """Households new, changed, unchanged, and listed before but not in this file."""
        counts = Counts()
        for status, count in await self._groups("import_households"):
            setattr(counts, status.lower(), count)
        await self._run("DROP TABLE IF EXISTS import_gone_households")
        # Each IDDTKS of the staged rows is one row of `import_groups` (kept on PostgreSQL).
        listed = "import_groups" if self.dialect == "postgresql" else "import_rows"
        await self._run(
            "CREATE TEMPORARY TABLE import_gone_households AS SELECT id FROM households "
            + _GONE_HH.format(listed=listed)
        )
        counts.delisted = await self._scalar("SELECT count(*) FROM import_gone_households")
        return counts

    async def citizens(self) -> Counts:
        """Citizens new, changed (moved among them), unchanged, and no longer listed.

        After `apply_households` the new households have their ids; before (a dry run) a
        known citizen in a new household counts as moved, as it will be.
        """
        distinct = self._distinct
        status = f"""CASE WHEN c.id IS NULL THEN 'NEW'
                    WHEN s.household_id IS NULL OR c.household_id <> s.household_id THEN 'MOVED'
                    WHEN c.full_name <> r.full_name OR c.birth_date <> r.birth_date
                      OR c.sex <> r.sex OR c.relationship <> r.relationship
                      OR c.ppks_code {distinct} r.ppks_code OR NOT c.dtks_listed THEN 'CHANGED'
                    ELSE 'UNCHANGED' END"""
        await self._run("DROP TABLE IF EXISTS import_citizens")
        await self._run("DROP TABLE IF EXISTS import_gone_citizens")
        if self.dialect == "postgresql":
            # With no citizen at all (a first import) every accepted row is a new citizen:
            # nothing to join, and `apply_citizens` inserts them from the staged rows.
            self._new_from_rows = not await self._scalar(
                "SELECT count(*) FROM (SELECT 1 FROM citizens LIMIT 1) AS c"
            )
            # One join of the staged rows with the citizens for both questions: each row's
            # citizen, and the citizens no row lists (GONE: no longer listed, unless a row
            # refused on its own names them). A row of a refused household (no `s`) is in
            # neither: its citizen is listed, not sorted. Only the rows that change
            # something are kept (a next month's are ~1 % of the file): every accepted row
            # is one row of the join (a NIK is one citizen, an IDDTKS one household), so
            # the unchanged are the accepted rows less the others.
            await self._run(
                f"""CREATE TEMPORARY TABLE import_citizens AS
                    SELECT * FROM (
                      SELECT r.nik, r.full_name, r.birth_date, r.sex, r.relationship,
                        r.ppks_code, s.household_id, c.id AS citizen_id,
                        CASE WHEN r.nik IS NULL THEN 'GONE' ELSE {status} END AS status,
                        {_citizen_fields(distinct)} AS changed_fields
                      FROM import_rows r
                      LEFT JOIN import_households s ON s.iddtks = r.iddtks
                      FULL JOIN citizens c ON c.nik = r.nik
                      WHERE CASE WHEN r.nik IS NULL
                        THEN c.dtks_listed
                          AND NOT EXISTS (SELECT 1 FROM import_refused f WHERE f.nik = c.nik)
                        ELSE s.iddtks IS NOT NULL END) AS sorted
                    WHERE status <> 'UNCHANGED' AND {"FALSE" if self._new_from_rows else "TRUE"}"""
            )
            await self._run(
                """CREATE TEMPORARY TABLE import_gone_citizens AS
                   SELECT citizen_id AS id FROM import_citizens WHERE status = 'GONE'"""
            )
        else:
            await self._run(
                f"""CREATE TEMPORARY TABLE import_citizens AS
                    SELECT r.nik, r.full_name, r.birth_date, r.sex, r.relationship,
                      r.ppks_code, s.household_id, c.id AS citizen_id, {status} AS status,
                      {_citizen_fields(distinct)} AS changed_fields
                    FROM import_rows r
                    -- a repeated NIK's row is in a refused household, so not in this join
                    JOIN import_households s ON s.iddtks = r.iddtks
                    LEFT JOIN citizens c ON c.nik = r.nik"""
            )
            await self._run(
                "CREATE TEMPORARY TABLE import_gone_citizens AS "
                f"SELECT id FROM citizens {_GONE_CIT}"
            )
        counts = Counts()
        for found, count in await self._groups("import_citizens"):
            if found != "GONE":
                setattr(counts, found.lower(), count)
        if self.dialect == "postgresql":
            accepted = await self.accepted()
            if self._new_from_rows:
                counts.new = accepted
            counts.unchanged = accepted - counts.new - counts.changed - counts.moved
        counts.changed += counts.moved
        counts.delisted = await self._scalar("SELECT count(*) FROM import_gone_citizens")
        return counts

    @property
    def _distinct(self) -> str:
        return "IS DISTINCT FROM" if self.dialect == "postgresql" else "IS NOT"

    async def _groups(self, table: str) -> list[tuple[str, int]]:
        rows = await self.connection.execute(
            text(f"SELECT status, count(*) FROM {table} GROUP BY status")
        )
        return [(status, int(count)) for status, count in rows]

    async def apply_households(self, *, import_id: int, today: dt.date, now: dt.datetime) -> None:
        """Write the households' differences: KK numbers, changes, new ones, delistings."""
        run = self._run
        who: dict[str, Any] = {"import_id": import_id, "now": now}
        await run(
            """UPDATE household_kk_numbers SET valid_until = :today
               WHERE valid_until IS NULL AND household_id IN
                 (SELECT household_id FROM import_households WHERE kk_changed = 1)""",
            today=today,
        )
        await run(
            f"""UPDATE households SET kk_number = s.kk_number, dtks_id = s.iddtks,
                  address = s.address, rt = s.rt, rw = s.rw,
                  kelurahan_code = s.kelurahan_code, kecamatan_code = s.kecamatan_code,
                  changed_fields = s.changed_fields, {_PROVENANCE}
                FROM import_households s
                WHERE households.id = s.household_id AND s.status = 'CHANGED'""",
            **who,
        )
        new = await self._scalar("SELECT count(*) FROM import_households WHERE status = 'NEW'")
        # With ids drawn in `check_file` the new households go in with them; else they take
        # the table's and are looked up again by DTKS id.
        given = ("id, ", "household_id, ") if self._ids_assigned else ("", "")
        await self._insert(
            "households",
            f"""INSERT INTO households ({given[0]}kk_number, dtks_id, address, rt, rw,
                   kelurahan_code, kecamatan_code, source, created_at, updated_at, version,
                   changed_via, changed_by_import_id, dtks_listed)
               SELECT {given[1]}kk_number, iddtks, address, rt, rw, kelurahan_code,
                   kecamatan_code, 'DTKS', :now, :now, 1, 'IMPORT', :import_id, TRUE
               FROM import_households WHERE status = 'NEW'""",
            rows=new,
            **who,
        )
        if not self._ids_assigned:
            await run(
                """UPDATE import_households SET household_id = h.id
                   FROM households h
                   WHERE import_households.status = 'NEW'
                     AND h.dtks_id = import_households.iddtks"""
            )
        await self._insert(
            "household_kk_numbers",
            """INSERT INTO household_kk_numbers (kk_number, household_id, valid_from)
               SELECT kk_number, household_id, :today FROM import_households
               WHERE status = 'NEW' OR kk_changed = 1
               ON CONFLICT (kk_number) DO UPDATE SET household_id = excluded.household_id,
                   valid_from = excluded.valid_from, valid_until = NULL""",
            rows=new,
            # The same without the key: the KK numbers known already, then the others (a
            # KK number is in at most one household of the file, `KK_SHARED`).
            bulk=(
                """UPDATE household_kk_numbers SET household_id = s.household_id,
                       valid_from = :today, valid_until = NULL
                   FROM import_households s
                   WHERE (s.status = 'NEW' OR s.kk_changed = 1)
                     AND household_kk_numbers.kk_number = s.kk_number""",
                """INSERT INTO household_kk_numbers (kk_number, household_id, valid_from)
                   SELECT s.kk_number, s.household_id, :today FROM import_households s
                   WHERE (s.status = 'NEW' OR s.kk_changed = 1)
                     AND NOT EXISTS (SELECT 1 FROM household_kk_numbers k
                                     WHERE k.kk_number = s.kk_number)""",
            ),
            primary_key=True,
            today=today,
        )
        await run(
            f"""UPDATE households SET {_DELISTED}
                WHERE id IN (SELECT id FROM import_gone_households)""",
            today=today,
            **who,
        )

    async def apply_citizens(self, *, import_id: int, today: dt.date, now: dt.datetime) -> None:
        """Write the citizens' differences: moves (keeping the household left), changes,
        new people, delistings."""
        run = self._run
        who: dict[str, Any] = {"import_id": import_id, "now": now}
        since = "date(c.created_at)" if self.dialect == "sqlite" else "CAST(c.created_at AS DATE)"
        await run(
            f"""INSERT INTO citizen_household_history
                   (citizen_id, household_id, relationship, valid_from, valid_to)
                SELECT c.id, c.household_id, c.relationship,
                       COALESCE(c.household_since, {since}), :today
                FROM citizens c JOIN import_citizens r ON r.citizen_id = c.id
                WHERE r.status = 'MOVED'""",
            today=today,
        )
        await run(
            f"""UPDATE citizens SET
                  changed_fields = r.changed_fields,
                  household_since = CASE WHEN r.status = 'MOVED' THEN :today
                                    ELSE household_since END,
                  full_name = r.full_name, birth_date = r.birth_date, sex = r.sex,
                  relationship = r.relationship, ppks_code = r.ppks_code,
                  household_id = r.household_id, {_PROVENANCE}
                FROM import_citizens r
                WHERE citizens.id = r.citizen_id AND r.status IN ('CHANGED', 'MOVED')""",
            today=today,
            **who,
        )
        if self._new_from_rows:
            # No citizen before this import: the accepted rows (those of the households
            # kept), straight from the staged rows, not through `import_citizens`.
            new = await self.accepted()
            source = """(SELECT r.nik, r.full_name, r.birth_date, r.sex, s.household_id,
                           r.relationship, r.ppks_code, 'NEW' AS status
                         FROM import_rows r JOIN import_households s ON s.iddtks = r.iddtks)"""
        else:
            new = await self._scalar("SELECT count(*) FROM import_citizens WHERE status = 'NEW'")
            source = "import_citizens"
        await self._insert(
            "citizens",
            """INSERT INTO citizens (nik, full_name, birth_date, sex, household_id, relationship,
                   has_disability, has_chronic_illness, ppks_code, household_since, created_at,
                   updated_at, version, changed_via, changed_by_import_id, dtks_listed)
               SELECT nik, full_name, birth_date, sex, household_id, relationship,
                   COALESCE(ppks_code IN ('PPKS_PENYANDANG_DISABILITAS',
                                          'PPKS_ANAK_DISABILITAS'), FALSE), FALSE,
                   ppks_code, :today, :now, :now, 1, 'IMPORT', :import_id, TRUE
               FROM """
            + source
            + """ AS n WHERE status = 'NEW'""",
            rows=new,
            today=today,
            **who,
        )
        await run(
            f"""UPDATE citizens SET {_DELISTED}
                WHERE id IN (SELECT id FROM import_gone_citizens)""",
            today=today,
            **who,
        )

    async def drop(self) -> None:
        """Drop the staging tables (they would otherwise last as long as the connection)."""
        for name in _TEMP_TABLES:
            await self.connection.execute(text(f"DROP TABLE IF EXISTS {name}"))


def _digest(rows: list[StagedRow], frames: list[Any]) -> Any:
    """The `hub.imports.columnar.Digest` of staged rows given as tuples and as frames."""
    import polars as pl

    from hub.imports.columnar import digest, staged_frame

    parts = [staged_frame(rows)] if rows else []
    parts.extend(frames)
    return digest(pl.concat(parts) if len(parts) > 1 else parts[0])


def _statement(sql: str, params: dict[str, Any]) -> Any:
    statement = text(sql)
    if "now" in params:
        # Typed, so that SQLite stores the same text the ORM does.
        statement = statement.bindparams(bindparam("now", type_=UTCDateTime()))
    return statement


def _matched(sql: str) -> str:
    """`sql` (or the column it names) with each `h.column` of the registry household read
    from `d` (matched by DTKS id) or else `k` (by KK number)."""
    if sql.isidentifier():
        sql = f"h.{sql}"
    return re.sub(r"\bh\.(\w+)", r"(CASE WHEN d.id IS NOT NULL THEN d.\1 ELSE k.\1 END)", sql)


#: A registry household `h` differs from its row `m` in the file.
_HOUSEHOLD_DIFF = """(h.kk_number <> m.kk_number OR h.address <> m.address OR h.rt <> m.rt
    OR h.rw <> m.rw OR h.kelurahan_code <> m.kelurahan_code OR h.dtks_id IS NULL
    OR NOT h.dtks_listed)"""
#: The GraphQL names of what differs, space-separated (null for a new household).
_HOUSEHOLD_FIELDS = """ltrim(
    CASE WHEN h.kk_number <> m.kk_number THEN ' kkNumber' ELSE '' END ||
    CASE WHEN h.address <> m.address THEN ' address' ELSE '' END ||
    CASE WHEN h.rt <> m.rt THEN ' rt' ELSE '' END ||
    CASE WHEN h.rw <> m.rw THEN ' rw' ELSE '' END ||
    CASE WHEN h.kelurahan_code <> m.kelurahan_code THEN ' kelurahan' ELSE '' END ||
    CASE WHEN h.dtks_id IS NULL THEN ' dtksId' ELSE '' END ||
    CASE WHEN NOT h.dtks_listed THEN ' dtksListed' ELSE '' END)"""
#: Provenance of a record the import changed.
_PROVENANCE = """version = version + 1, changed_via = 'IMPORT',
    changed_by_import_id = :import_id, changed_by_client_id = NULL,
    changed_by_organization_id = NULL, updated_at = :now, dtks_listed = TRUE,
    delisted_on = NULL"""
#: A record the previous file listed and this one does not.
_DELISTED = """dtks_listed = FALSE, delisted_on = :today, version = version + 1,
    changed_via = 'IMPORT', changed_by_import_id = :import_id, changed_by_client_id = NULL,
    changed_by_organization_id = NULL, changed_fields = 'dtksListed', updated_at = :now"""


def _citizen_fields(distinct: str) -> str:
    """What differs between a citizen `c` and its row `r` (household `s`), as GraphQL names."""
    return f"""ltrim(
        CASE WHEN c.full_name <> r.full_name THEN ' fullName' ELSE '' END ||
        CASE WHEN c.birth_date <> r.birth_date THEN ' birthDate' ELSE '' END ||
        CASE WHEN c.sex <> r.sex THEN ' sex' ELSE '' END ||
        CASE WHEN c.relationship <> r.relationship THEN ' relationship' ELSE '' END ||
        CASE WHEN c.ppks_code {distinct} r.ppks_code THEN ' ppksType' ELSE '' END ||
        CASE WHEN s.household_id IS NULL OR c.household_id <> s.household_id
             THEN ' household' ELSE '' END ||
        CASE WHEN NOT c.dtks_listed THEN ' dtksListed' ELSE '' END)"""


#: Listed by the previous file, absent from this one (refused rows count as present).
_GONE_HH = """WHERE dtks_listed AND dtks_id IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM {listed} r WHERE r.iddtks = households.dtks_id)
    AND NOT EXISTS (SELECT 1 FROM import_refused f WHERE f.iddtks = households.dtks_id)"""
_GONE_CIT = """WHERE dtks_listed
    AND NOT EXISTS (SELECT 1 FROM import_rows r WHERE r.nik = citizens.nik)
    AND NOT EXISTS (SELECT 1 FROM import_refused f WHERE f.nik = citizens.nik)"""

#!/usr/bin/env python3
"""Run contrib/fleet.sql over a folder of Memdesc fleet rows on DuckDB or Spark SQL.

    fleet.py --engine duckdb|spark ROWS_DIR [--sql FILE]
    fleet.py --print-schema

ROWS_DIR holds *.jsonl files at any depth (memdesc export --rows-dir writes
host=H/date=D/memdesc-TIME.jsonl). Every row is checked against schema 2
(docs/fleet-rows.md) before an engine sees it: a line that is not JSON, a row of
another schema version or with other columns is an error naming the file and line
(exit 1). The results are printed as one JSON document: for each named query of the
SQL file, its columns and rows.

Both engines get the same explicit schema, so that neither infers its own types, and
read the files as plain JSON Lines: the host and date come from the rows themselves
(the folder names are for the people and tools that prune by path).
"""

import argparse
import decimal
import json
import os
import re
import sys

SCHEMA_VERSION = 2
STRINGS = ["host", "date", "captured_at", "kernel_release", "memdesc_version", "source"]
# Columns that may be null: what a snapshot does not record, eras not costed.
NULLABLE_PREFIXES = ("classic_", "mask_", "memdesc32_", "memdesc8_")
NULLABLE = {"captured_at", "kernel_release", "kernel_memmap_bytes"}

CENSUS = ["ram", "hole", "free", "slab", "pgtable", "reserved", "zero_page", "offline", "hugetlb", "zero_offline", "deferred_init", "zero_unknown", "no_flag"]
KINDS = ["anon_thp", "anon_mthp", "anon", "file_large", "file", "shmem", "other"]
ERAS = ["classic", "mask", "memdesc32", "memdesc8"]
ERA_COLUMNS = ["struct_page_bytes", "memmap_bytes", "descriptor_bytes", "hvo_saved_bytes", "hvo_pte_table_bytes", "total_overhead_bytes", "total_overhead_all_hvo_bytes"]

COLUMNS = (
    ["schema_version", "host", "date", "captured_at", "kernel_release", "memdesc_version", "source", "ram_bytes", "pfns", "present_sections"]
    + [c + "_pages" for c in CENSUS]
    + ["folios_" + k for k in KINDS]
    + ["folio_pages_" + k for k in KINDS]
    + ["hugetlb_2m_huge_pages", "hugetlb_2m_hvo_huge_pages", "hugetlb_1g_huge_pages", "hugetlb_1g_hvo_huge_pages"]
    + ["hvo_fake_heads_corrected_pages", "kernel_memmap_bytes", "crosschecks", "crosschecks_agree"]
    + [e + "_" + c for e in ERAS for c in ERA_COLUMNS]
)


def sql_type(column):
    return "VARCHAR" if column in STRINGS else "BIGINT"


class RowsError(Exception):
    pass


def row_files(root):
    if not os.path.isdir(root):
        raise RowsError(f"{root}: not a directory")
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        files += [os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(".jsonl") and not f.startswith(".")]
    if not files:
        raise RowsError(f"{root}: no *.jsonl row files")
    return files


def check_row(path, number, text):
    where = f"{path}:{number}"
    try:
        row = json.loads(text)
    except ValueError as e:
        raise RowsError(f"{where}: not a JSON row ({e})")
    if not isinstance(row, dict):
        raise RowsError(f"{where}: not a JSON object")
    version = row.get("schema_version")
    if version != SCHEMA_VERSION:
        raise RowsError(f"{where}: schema_version {json.dumps(version)}, this runner reads schema {SCHEMA_VERSION} (docs/fleet-rows.md)")
    missing = [c for c in COLUMNS if c not in row]
    extra = [c for c in row if c not in COLUMNS]
    if missing or extra:
        raise RowsError(f"{where}: columns do not match schema {SCHEMA_VERSION}: missing {missing or 'none'}, unknown {extra or 'none'}")
    for c in COLUMNS:
        v = row[c]
        if v is None:
            if c in NULLABLE or c.startswith(NULLABLE_PREFIXES):
                continue
            raise RowsError(f"{where}: column {c} is null")
        if c in STRINGS:
            ok = isinstance(v, str)
        else:
            ok = isinstance(v, int) and not isinstance(v, bool)
        if not ok:
            raise RowsError(f"{where}: column {c} is {json.dumps(v)}, expected {'a string' if c in STRINGS else 'an integer'}")


def check_files(files):
    rows = 0
    for path in files:
        try:
            with open(path, "r", encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    if line.strip():
                        check_row(path, number, line)
                        rows += 1
        except UnicodeDecodeError as e:
            raise RowsError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})")
        except OSError as e:
            raise RowsError(f"{path}: cannot read ({e.strerror})")
    if rows == 0:
        raise RowsError(f"{os.path.dirname(files[0])}: the row files hold no rows")
    return rows


def statements(sql):
    """(name or None, text) for each statement; a '-- name: X' line names the next one."""
    out, name, lines = [], None, []
    for line in sql.splitlines():
        stripped = line.strip()
        if stripped.startswith("-- name:") and not lines:
            name = stripped[len("-- name:"):].strip()
            continue
        if stripped.startswith("--") or (not stripped and not lines):
            continue
        lines.append(line)
        if stripped.endswith(";"):
            out.append((name, "\n".join(lines).rstrip().rstrip(";")))
            name, lines = None, []
    if lines:
        out.append((name, "\n".join(lines)))
    return out


def plain(v):
    """Engine values as JSON numbers and strings: DuckDB's HUGEINT sums and Spark's
    decimals become ints when whole, floats otherwise."""
    if isinstance(v, decimal.Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    return v


def run_duckdb(files, sql):
    import duckdb

    con = duckdb.connect()
    columns = "{" + ", ".join(f"'{c}': '{sql_type(c)}'" for c in COLUMNS) + "}"
    file_list = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
    # A table, not a view: the views of fleet.sql read the rows several times each.
    con.execute(f"CREATE TEMP TABLE fleet_rows AS SELECT * FROM read_json({file_list}, format = 'newline_delimited', columns = {columns}, hive_partitioning = false)")
    results = {}
    for name, text in statements(sql):
        cur = con.execute(text)
        if name:
            results[name] = {"columns": [d[0] for d in cur.description], "rows": [[plain(v) for v in r] for r in cur.fetchall()]}
    return results


def run_spark(files, sql):
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    master = os.environ.get("FLEET_SPARK_MASTER", "local[2]")
    # As many shuffle partitions as local threads (fleet rows are one per host and day:
    # small data); 2 for a cluster.
    local = re.fullmatch(r"local\[(\d+)\]", master)
    spark = (
        SparkSession.builder.master(master)
        .appName("memdesc-fleet")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", local.group(1) if local else "2")
        .config("spark.driver.memory", "512m")
        # The views live in this session only: no Hive metastore.
        .config("spark.sql.catalogImplementation", "in-memory")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.showConsoleProgress", "false")
        # Rows are small files: pack many into one task instead of one task per file.
        .config("spark.sql.files.openCostInBytes", "8192")
        # List the row files on the driver: above the default 32 paths Spark starts a job
        # for the listing alone.
        .config("spark.sql.sources.parallelPartitionDiscovery.threshold", "1000000")
        # Small data: adaptive re-planning, generating and compiling Java for each plan
        # (whole-stage and expression codegen) and the JIT's second tier cost more than
        # they save; interpreted expressions give the same rows.
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        ddl = ", ".join(f"`{c}` {'STRING' if c in STRINGS else 'BIGINT'}" for c in COLUMNS)
        rows = spark.read.schema(ddl).option("mode", "FAILFAST").option("recursiveFileLookup", "true").json(files)
        # Every query reads the rows again through the views: read them once.
        rows.cache().createOrReplaceTempView("fleet_rows")
        results = {}
        for name, text in statements(sql):
            df = spark.sql(text)
            view = re.match(r"\s*CREATE\s+OR\s+REPLACE\s+TEMPORARY\s+VIEW\s+(\w+)", text, re.I)
            if view:
                # Later statements read each view several times: keep it computed.
                spark.catalog.cacheTable(view.group(1))
            if name:
                results[name] = {"columns": df.columns, "rows": [[plain(v) for v in r] for r in df.collect()]}
        return results
    finally:
        spark.stop()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description="Run fleet.sql over Memdesc fleet rows on DuckDB or Spark SQL.")
    p.add_argument("--engine", choices=["duckdb", "spark"])
    p.add_argument("--sql", default=os.path.join(here, "fleet.sql"), help="SQL file (default: contrib/fleet.sql)")
    p.add_argument("--print-schema", action="store_true", help="print schema 2's columns and types as JSON and exit")
    p.add_argument("rows_dir", nargs="?")
    a = p.parse_args()
    if a.print_schema:
        print(json.dumps({"schema_version": SCHEMA_VERSION, "columns": [[c, sql_type(c)] for c in COLUMNS]}))
        return 0
    if not a.engine or not a.rows_dir:
        p.error("give --engine duckdb|spark and ROWS_DIR")
    try:
        files = row_files(a.rows_dir)
        rows = check_files(files)
        with open(a.sql, "r", encoding="utf-8") as f:
            sql = f.read()
    except RowsError as e:
        print(f"fleet.py: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"fleet.py: error: {a.sql}: cannot read ({e.strerror})", file=sys.stderr)
        return 1
    module, hint = ("duckdb", "pip install duckdb") if a.engine == "duckdb" else ("pyspark", "pip install pyspark; it needs Java 17")
    try:
        __import__(module)
    except ImportError:
        print(f"fleet.py: error: the {module} module is not installed ({hint})", file=sys.stderr)
        return 1
    results = run_duckdb(files, sql) if a.engine == "duckdb" else run_spark(files, sql)
    print(json.dumps({"engine": a.engine, "files": len(files), "rows": rows, "results": results}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

-- Memdesc fleet queries over rows of schema 2 (docs/fleet-rows.md).
-- The same text runs on DuckDB and on Spark SQL: contrib/fleet.py names the rows
-- fleet_rows in either engine and runs each statement in turn; a statement after a
-- "-- name:" line is a result, the others (views) prepare them. Only what both
-- engines accept is used: standard aggregates, CASE, UNION ALL, percentile_cont
-- WITHIN GROUP, CREATE OR REPLACE TEMPORARY VIEW.

-- Each host's last row of each day (a timer writes one every few minutes).
CREATE OR REPLACE TEMPORARY VIEW daily AS
SELECT r.*
FROM fleet_rows r
JOIN (SELECT host, date, max(coalesce(captured_at, date)) AS k FROM fleet_rows GROUP BY host, date) m
  ON r.host = m.host AND r.date = m.date AND coalesce(r.captured_at, r.date) = m.k;

-- Each host's last day: the fleet as it is now.
CREATE OR REPLACE TEMPORARY VIEW latest AS
SELECT d.*
FROM daily d
JOIN (SELECT host, max(date) AS date FROM daily GROUP BY host) m
  ON d.host = m.host AND d.date = m.date;

-- One row per host, day and era, with the classic era's total beside it.
CREATE OR REPLACE TEMPORARY VIEW daily_eras AS
SELECT host, date, ram_bytes, 'classic' AS era, classic_memmap_bytes AS memmap_bytes, classic_descriptor_bytes AS descriptor_bytes,
       classic_hvo_saved_bytes AS hvo_saved_bytes, classic_total_overhead_bytes AS total_overhead_bytes, classic_total_overhead_bytes AS classic_total_overhead_bytes
FROM daily
UNION ALL
SELECT host, date, ram_bytes, 'mask', mask_memmap_bytes, mask_descriptor_bytes, mask_hvo_saved_bytes, mask_total_overhead_bytes, classic_total_overhead_bytes
FROM daily
UNION ALL
SELECT host, date, ram_bytes, 'memdesc32', memdesc32_memmap_bytes, memdesc32_descriptor_bytes, memdesc32_hvo_saved_bytes, memdesc32_total_overhead_bytes, classic_total_overhead_bytes
FROM daily
UNION ALL
SELECT host, date, ram_bytes, 'memdesc8', memdesc8_memmap_bytes, memdesc8_descriptor_bytes, memdesc8_hvo_saved_bytes, memdesc8_total_overhead_bytes, classic_total_overhead_bytes
FROM daily;

-- name: totals_per_era
-- Fleet-wide bytes per day and era, and what each era saves against today's classic
-- struct page.
SELECT date, era, count(*) AS hosts, sum(ram_bytes) AS ram_bytes, sum(memmap_bytes) AS memmap_bytes,
       sum(descriptor_bytes) AS descriptor_bytes, sum(hvo_saved_bytes) AS hvo_saved_bytes,
       sum(total_overhead_bytes) AS total_overhead_bytes,
       sum(classic_total_overhead_bytes - total_overhead_bytes) AS saved_vs_classic_bytes
FROM daily_eras
WHERE total_overhead_bytes IS NOT NULL AND classic_total_overhead_bytes IS NOT NULL
GROUP BY date, era
ORDER BY date, era;

-- name: savings_percentiles
-- How much of its RAM each host would get back in each era (against classic), as
-- percentiles over the hosts' latest rows.
SELECT era, count(*) AS hosts,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY saved_percent) AS p50,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY saved_percent) AS p90,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY saved_percent) AS p99
FROM (
  SELECT e.era, CAST(e.classic_total_overhead_bytes - e.total_overhead_bytes AS DOUBLE) * 100 / e.ram_bytes AS saved_percent
  FROM daily_eras e
  JOIN latest l ON e.host = l.host AND e.date = l.date
  WHERE e.era <> 'classic' AND e.total_overhead_bytes IS NOT NULL AND e.classic_total_overhead_bytes IS NOT NULL AND e.ram_bytes > 0
) s
GROUP BY era
ORDER BY era;

-- name: top_memmap_share
-- Hosts whose memmap takes the largest share of RAM today (the kernel's own figure
-- when the row has it, else the classic era's).
SELECT host, date, coalesce(kernel_memmap_bytes, classic_memmap_bytes) AS memmap_bytes, ram_bytes,
       CAST(coalesce(kernel_memmap_bytes, classic_memmap_bytes) AS DOUBLE) * 100 / ram_bytes AS memmap_percent
FROM latest
WHERE ram_bytes > 0 AND coalesce(kernel_memmap_bytes, classic_memmap_bytes) IS NOT NULL
ORDER BY memmap_percent DESC, host
LIMIT 10;

-- name: hvo_adoption
-- Per HugeTLB pool: hosts that have huge pages, hosts that optimise their vmemmap
-- (HVO), and the share of huge pages optimised, over the hosts' latest rows.
SELECT pool, count(*) AS hosts,
       sum(CASE WHEN huge_pages > 0 THEN 1 ELSE 0 END) AS hosts_with_pool,
       sum(CASE WHEN hvo_huge_pages > 0 THEN 1 ELSE 0 END) AS hosts_with_hvo,
       sum(huge_pages) AS huge_pages, sum(hvo_huge_pages) AS hvo_huge_pages,
       CAST(sum(hvo_huge_pages) AS DOUBLE) / nullif(sum(huge_pages), 0) AS hvo_share
FROM (
  SELECT '2048kB' AS pool, hugetlb_2m_huge_pages AS huge_pages, hugetlb_2m_hvo_huge_pages AS hvo_huge_pages FROM latest
  UNION ALL
  SELECT '1048576kB', hugetlb_1g_huge_pages, hugetlb_1g_hvo_huge_pages FROM latest
) p
GROUP BY pool
ORDER BY pool;

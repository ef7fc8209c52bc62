-- sqlite.sql — the programs suite's sqlite3 workload: an in-memory database filled through a
-- recursive CTE, indexed, queried with joins and aggregates, updated and deleted; prints checksums.
PRAGMA cache_size = -65536;
CREATE TABLE t(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, val REAL);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 150000)
INSERT INTO t SELECT i, i % 1000, printf('name-%08d-%s', (i * 7919) % 1000003, hex(i)), (i * 31 % 977) / 7.0 FROM c;
CREATE INDEX t_grp ON t(grp);
CREATE INDEX t_name ON t(name);
CREATE TABLE g AS SELECT grp, count(*) AS n, sum(val) AS s, max(name) AS m FROM t GROUP BY grp;
SELECT count(*), sum(n), printf('%.3f', sum(s)) FROM g;
SELECT count(*) FROM t JOIN g ON t.grp = g.grp WHERE t.val > g.s / g.n;
UPDATE t SET name = name || '-' || grp WHERE id % 3 = 0;
DELETE FROM t WHERE id % 5 = 0;
SELECT count(*), length(group_concat(substr(name, 1, 4), '')) FROM t;
SELECT grp, count(*) FROM t GROUP BY grp ORDER BY 2 DESC, 1 LIMIT 3;

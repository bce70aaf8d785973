-- Report views over the read models, for administrators' own SQL (psql,
-- Grafana, Metabase, …). Days are UTC calendar days. Only backups count;
-- names are the connection's current name (or, once it is gone from the
-- read model, the name it had when last used).

CREATE VIEW report_backups_per_source_day AS
SELECT (o.requested_at AT TIME ZONE 'UTC')::date                              AS day,
       o.source_id,
       COALESCE(c.name, (array_agg(o.source_name ORDER BY o.requested_at DESC))[1]) AS source_name,
       count(*)                                                              AS backups,
       count(*) FILTER (WHERE o.status = 'completed')                        AS completed,
       count(*) FILTER (WHERE o.status = 'failed')                           AS failed,
       COALESCE(sum(o.total_bytes) FILTER (WHERE o.status = 'completed'), 0)  AS total_bytes,
       COALESCE(sum(o.archive_size) FILTER (WHERE o.status = 'completed'), 0) AS archive_bytes
FROM operations o
LEFT JOIN connections c ON c.id = o.source_id
WHERE o.kind = 'backup'
GROUP BY 1, o.source_id, c.name;

COMMENT ON VIEW report_backups_per_source_day IS
    'Backups per source and UTC day of request: how many were asked for, completed and failed, and the bytes the completed ones backed up (total_bytes: source data, uncompressed; archive_bytes: compressed archives).';

CREATE VIEW report_failure_rate AS
SELECT o.source_id,
       COALESCE(c.name, (array_agg(o.source_name ORDER BY o.requested_at DESC))[1]) AS source_name,
       count(*) FILTER (WHERE o.status IN ('completed', 'failed'))            AS finished,
       count(*) FILTER (WHERE o.status = 'failed')                           AS failed,
       round(count(*) FILTER (WHERE o.status = 'failed')::numeric
             / NULLIF(count(*) FILTER (WHERE o.status IN ('completed', 'failed')), 0), 4) AS failure_rate,
       max(o.finished_at) FILTER (WHERE o.status = 'failed')                 AS last_failure_at
FROM operations o
LEFT JOIN connections c ON c.id = o.source_id
WHERE o.kind = 'backup'
GROUP BY o.source_id, c.name;

COMMENT ON VIEW report_failure_rate IS
    'Per source: backups that finished (completed or failed; cancelled ones are deliberate and not counted), how many failed, and failed/finished as a fraction between 0 and 1 (NULL before any finished).';

CREATE VIEW report_bytes_per_destination AS
SELECT o.destination_id,
       COALESCE(c.name, (array_agg(o.destination_name ORDER BY o.requested_at DESC))[1]) AS destination_name,
       count(*)                          AS backups,
       COALESCE(sum(o.archive_size), 0)  AS archive_bytes,
       COALESCE(sum(o.total_bytes), 0)   AS source_bytes,
       max(o.finished_at)                AS last_backup_at
FROM operations o
LEFT JOIN connections c ON c.id = o.destination_id
WHERE o.kind = 'backup' AND o.status = 'completed'
GROUP BY o.destination_id, c.name;

COMMENT ON VIEW report_bytes_per_destination IS
    'Per destination: completed backups stored there and the bytes of their archives (archive_bytes, compressed) and of the data they hold (source_bytes, uncompressed).';

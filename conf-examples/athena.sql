-- aigw: the daily cost CSV of "aigw export --out s3://..." in Amazon Athena.
--
-- aigw writes one object a day, Hive-style partitions:
--
--     s3://example-finance-bucket/aigw/usage/year=2024/month=05/day=01/usage.csv
--
-- a header line, then one row per team and model, RFC 4180 quoting (a
-- project such as "support, bot" is quoted), "\n" line ends.  Replace the
-- bucket and prefix below (both places) with those of --out.
--
-- OpenCSVSerde reads the quoted fields.  It reads BIGINT columns as
-- numbers, but an empty field cannot be a number: the cost columns, empty
-- for a model with no price, are strings, cast in the queries
-- (CAST(NULLIF(total_cost, '') AS DECIMAL(24, 9)), exact to the
-- nano-dollar as written).  "date" is a string too (OpenCSVSerde's DATE
-- wants days since 1970).  aigw writes no backslash escapes; a backslash
-- inside a project or department name would be read as one (escapeChar).
--
-- Partition projection finds the days without MSCK REPAIR TABLE or
-- ALTER TABLE ADD PARTITION; without it (drop the projection.* and
-- storage.location.template properties), run after each export:
--
--     MSCK REPAIR TABLE aigw_usage;

CREATE EXTERNAL TABLE IF NOT EXISTS aigw_usage (
    `date`                    string,
    team_id                   string,
    project                   string,
    department                string,
    model_id                  string,
    invocations               bigint,
    input_tokens              bigint,
    output_tokens             bigint,
    cache_read_input_tokens   bigint,
    cache_write_input_tokens  bigint,
    images                    bigint,
    errors                    bigint,
    throttled                 bigint,
    input_cost                string,
    output_cost               string,
    cache_cost                string,
    total_cost                string
)
PARTITIONED BY (year string, month string, day string)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'
WITH SERDEPROPERTIES (
    'separatorChar' = ',',
    'quoteChar'     = '"',
    'escapeChar'    = '\\'
)
STORED AS TEXTFILE
LOCATION 's3://example-finance-bucket/aigw/usage/'
TBLPROPERTIES (
    'skip.header.line.count'    = '1',
    'projection.enabled'        = 'true',
    'projection.year.type'      = 'integer',
    'projection.year.range'     = '2024,2099',
    'projection.year.digits'    = '4',
    'projection.month.type'     = 'integer',
    'projection.month.range'    = '1,12',
    'projection.month.digits'   = '2',
    'projection.day.type'       = 'integer',
    'projection.day.range'      = '1,31',
    'projection.day.digits'     = '2',
    'storage.location.template' =
        's3://example-finance-bucket/aigw/usage/year=${year}/month=${month}/day=${day}/'
);


-- The cost per team for a month (May 2024), most expensive first, with
-- the rows that have no price (their cost is not in total_usd).

SELECT team_id,
       project,
       department,
       SUM(invocations)                                       AS invocations,
       SUM(input_tokens)                                      AS input_tokens,
       SUM(output_tokens)                                     AS output_tokens,
       SUM(cache_read_input_tokens + cache_write_input_tokens) AS cache_tokens,
       SUM(errors)                                            AS errors,
       SUM(CAST(NULLIF(total_cost, '') AS DECIMAL(24, 9)))    AS total_usd,
       COUNT_IF(total_cost = '')                              AS unpriced_rows
FROM aigw_usage
WHERE year = '2024' AND month = '05'
GROUP BY team_id, project, department
ORDER BY total_usd DESC NULLS LAST, team_id;


-- The cost per department and model over a month.

SELECT department,
       model_id,
       SUM(CAST(NULLIF(input_cost, '') AS DECIMAL(24, 9)))  AS input_usd,
       SUM(CAST(NULLIF(output_cost, '') AS DECIMAL(24, 9))) AS output_usd,
       SUM(CAST(NULLIF(cache_cost, '') AS DECIMAL(24, 9)))  AS cache_usd,
       SUM(CAST(NULLIF(total_cost, '') AS DECIMAL(24, 9)))  AS total_usd
FROM aigw_usage
WHERE year = '2024' AND month = '05'
GROUP BY department, model_id
ORDER BY department, total_usd DESC NULLS LAST;

"""A synthetic company at scale, generated inside DuckDB, for timing the daily tables.

20,000 accounts over five years by default: created through the second half of 2019, three
subscription rows each (a first year, a renewal and a later add-on in EUR or GBP for a third of
them), daily EUR and GBP rates, five users per account, and events, tickets, surveys and
activities spread over the period. Half of the events carry only a user id.
"""

from __future__ import annotations

from datetime import date

from ibis.backends import BaseBackend

AS_OF = date(2024, 12, 31)


def build(con: BaseBackend, *, accounts: int = 20_000, events: int = 10_000_000) -> None:
    """Create the canonical tables of the synthetic company on a DuckDB connection
    (DuckDB SQL: the generator only, never the engine under test)."""
    sql = f"""
    CREATE OR REPLACE TABLE accounts AS
    SELECT 'a' || i AS account_id, 'Account ' || i AS name, NULL::VARCHAR AS domain,
           NULL::VARCHAR AS parent_account_id, NULL::VARCHAR AS segment,
           NULL::VARCHAR AS industry, NULL::VARCHAR AS region, NULL::VARCHAR AS country,
           NULL::VARCHAR AS owner_email,
           TIMESTAMP '2019-07-01' + INTERVAL (i % 180) DAY AS created_at
    FROM range({accounts}) t(i);

    CREATE OR REPLACE TABLE users AS
    SELECT 'u' || i AS user_id, 'a' || (i // 5) AS account_id, NULL::VARCHAR AS email,
           NULL::VARCHAR AS name, NULL::TIMESTAMP AS created_at
    FROM range({accounts * 5}) t(i);

    CREATE OR REPLACE TABLE fx_rates AS
    SELECT (DATE '2019-01-01' + INTERVAL (d) DAY)::DATE AS date, c AS currency,
           (CASE c WHEN 'EUR' THEN 1.1 ELSE 1.25 END + (d % 50) / 1000.0)::DECIMAL(24,12)
             AS rate_to_base
    FROM range(2200) t(d), (VALUES ('EUR'), ('GBP')) v(c);

    CREATE OR REPLACE TABLE subscriptions AS
    WITH base AS (
      SELECT i, 'a' || i AS account_id,
             (DATE '2019-07-01' + INTERVAL (i % 180 + i % 7) DAY)::DATE AS s0
      FROM range({accounts}) t(i)
    )
    SELECT 's' || i || '-' || k AS subscription_id, account_id, 'plan' || (i % 4) AS plan,
           (1 + i % 20)::DECIMAL(18,6) AS quantity,
           (CASE WHEN k = 2 THEN 49.5 ELSE 600 END)::DECIMAL(18,6) AS unit_price,
           (CASE WHEN i % 5 = 0 THEN 0.1 ELSE NULL END)::DECIMAL(18,6) AS discount,
           CASE WHEN k = 2 AND i % 3 = 1 THEN 'EUR' WHEN k = 2 AND i % 3 = 2 THEN 'GBP'
                ELSE 'USD' END AS currency,
           CASE WHEN k = 2 THEN 1 ELSE 12 END::BIGINT AS interval_months,
           CASE k WHEN 0 THEN s0 WHEN 1 THEN (s0 + INTERVAL 1 YEAR)::DATE
                  ELSE (s0 + INTERVAL (200 + i % 900) DAY)::DATE END AS start_date,
           CASE WHEN k = 0 THEN (s0 + INTERVAL 1 YEAR)::DATE
                WHEN k = 1 AND i % 4 = 0 THEN (s0 + INTERVAL 3 YEAR)::DATE
                ELSE NULL END AS end_date,
           NULL::TIMESTAMP AS canceled_at, NULL::VARCHAR AS contract_id,
           NULL::BOOLEAN AS auto_renew, FALSE AS trial
    FROM base, range(3) r(k);

    CREATE OR REPLACE TABLE events AS
    SELECT 'e' || i AS event_id,
           TIMESTAMP '2019-07-01' + INTERVAL ((i * 7919) % 2010) DAY
             + INTERVAL ((i * 104729) % 86400) SECOND AS timestamp,
           'ev' || (i % 10) AS event,
           CASE WHEN i % 2 = 0 THEN 'a' || ((i * 31) % {accounts}) END AS account_id,
           'u' || ((i * 31) % {accounts} * 5 + i % 5) AS user_id,
           CASE WHEN i % 3 = 0 THEN NULL ELSE (i % 7)::DOUBLE END AS value,
           NULL::VARCHAR AS properties
    FROM range({events}) t(i);

    CREATE OR REPLACE TABLE tickets AS
    SELECT 't' || i AS ticket_id, 'a' || (i % {accounts}) AS account_id,
           TIMESTAMP '2019-08-01' + INTERVAL ((i * 13) % 1950) DAY AS created_at,
           CASE WHEN i % 10 <> 0 THEN TIMESTAMP '2019-08-01'
             + INTERVAL ((i * 13) % 1950 + i % 9) DAY + INTERVAL 5 HOUR END AS solved_at,
           CASE WHEN i % 8 = 0 THEN 'urgent' ELSE 'normal' END AS priority,
           NULL::VARCHAR AS status, NULL::BIGINT AS csat
    FROM range({accounts * 10}) t(i);

    CREATE OR REPLACE TABLE surveys AS
    SELECT 'r' || i AS response_id, 'a' || (i % {accounts}) AS account_id,
           NULL::VARCHAR AS contact_id, 'nps' AS kind, (i % 11)::BIGINT AS score,
           NULL::VARCHAR AS comment,
           TIMESTAMP '2019-09-01' + INTERVAL ((i * 17) % 1900) DAY AS responded_at
    FROM range({accounts * 2}) t(i);

    CREATE OR REPLACE TABLE activities AS
    SELECT 'm' || i AS activity_id, 'a' || (i % {accounts}) AS account_id, 'meeting' AS kind,
           TIMESTAMP '2019-09-01' + INTERVAL ((i * 19) % 1900) DAY AS occurred_at,
           NULL::VARCHAR AS owner_email, NULL::VARCHAR AS subject
    FROM range({accounts * 10}) t(i);
    """
    for statement in sql.split(";"):
        if statement.strip():
            con.raw_sql(statement)

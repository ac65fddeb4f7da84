"""Statistics across agencies: two aggregate functions that count, agency by agency, under each
agency's own row-level security, and return counts only (ADR 0018); indexes for their ranges.

Revision ID: docs_0010
Revises: docs_0009 (the outgoing documents' signatures, which the figures count)
"""

from __future__ import annotations

from alembic import op

revision = "docs_0010"
# Outgoing documents count as digitally signed by their seal signature (docs.outgoing_signature).
down_revision = "docs_0009"
branch_labels = None
depends_on = None

# Shared by both functions. SECURITY DEFINER runs them as the schema owner, which FORCE ROW LEVEL
# SECURITY still confines to `app.tenant_id`: the loop sets it to each agency in turn, so every
# row read is checked by the unchanged tenant policies (ADR 0004), and puts the caller's tenant
# back at the end. (A `SET app.tenant_id` clause would do the restoring, but PostgreSQL 15 lets
# only a superuser attach a custom setting to a function.) A fixed search_path keeps a caller's
# objects from standing in for ours. Each agency's queries are small, but their estimates can
# pass the JIT threshold: compiling cost tens of milliseconds per agency, more than the query.
_HEADER = """
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
"""

_CHECKS = """
    IF p_from IS NULL OR p_to IS NULL OR p_from <> date_trunc('month', p_from)::date
       OR p_to <> date_trunc('month', p_to)::date OR p_to < p_from
       OR p_to > p_from + interval '10 years' THEN
        RAISE EXCEPTION 'statistics: months must be first days, from <= to, at most 10 years';
    END IF;
    IF cardinality(p_agencies) > 20000 THEN
        RAISE EXCEPTION 'statistics: too many agencies';
    END IF;
"""

# Documents received (incoming, by the Vietnam month of arrival; those returned to the sender
# were never accepted) and sent (outgoing issued or later revoked, not internal, by issue date),
# with their recipients by channel. A sent document is digitally signed when the agency's seal
# signature (ký số văn thư, NĐ 30 Điều 5.1) is on it. A recipient reached electronically whose
# code is not an agency of this platform went through the national axis (ADR 0015 routes so).
DOCUMENTS = f"""
CREATE FUNCTION docs.statistics_documents(
    p_agencies uuid[], p_from date, p_to date, p_platform_codes text[]
) RETURNS TABLE (
    agency_id uuid,
    month date,
    received_electronic bigint,
    received_paper bigint,
    sent_electronic bigint,
    sent_paper bigint,
    sent_signed bigint,
    recipients_electronic bigint,
    recipients_paper bigint,
    recipients_axis bigint
)
{_HEADER}
AS $fn$
#variable_conflict use_column
DECLARE
    v_caller text := current_setting('app.tenant_id', true);
    t uuid;
    v_start timestamptz := p_from::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh';
    v_end timestamptz := (p_to + interval '1 month') AT TIME ZONE 'Asia/Ho_Chi_Minh';
    v_next date := (p_to + interval '1 month')::date;
BEGIN
    {_CHECKS}
    FOR t IN SELECT DISTINCT x FROM unnest(p_agencies) AS x WHERE x IS NOT NULL LOOP
        PERFORM set_config('app.tenant_id', t::text, true);
        RETURN QUERY
        WITH months AS (
            SELECT m::date AS month
            FROM generate_series(p_from::timestamp, p_to::timestamp, interval '1 month') AS m
        ), received AS (
            SELECT date_trunc('month', d.arrived_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
                       AS month,
                   count(*) FILTER (WHERE d.source = 'electronic') AS electronic,
                   count(*) FILTER (WHERE d.source <> 'electronic') AS paper
            FROM docs.document AS d
            WHERE d.tenant_id = t AND d.direction = 'incoming' AND d.state <> 'returned'
              AND d.arrived_at >= v_start AND d.arrived_at < v_end
            GROUP BY 1
        ), platform AS MATERIALIZED (
            SELECT DISTINCT c AS code FROM unnest(p_platform_codes) AS c WHERE c IS NOT NULL
        ), sent AS MATERIALIZED (
            SELECT o.id, date_trunc('month', o.issued_on)::date AS month,
                   EXISTS (
                       SELECT 1 FROM docs.outgoing_signature AS g
                       WHERE g.tenant_id = t AND g.outgoing_id = o.id AND g.kind = 'seal'
                   ) AS signed
            FROM docs.outgoing AS o
            WHERE o.tenant_id = t AND o.state IN ('issued', 'revoked') AND NOT o.internal
              AND o.issued_on >= p_from AND o.issued_on < v_next
        ), deliveries AS (
            -- NOT IN over the platform's codes is one hashed lookup per recipient.
            SELECT x.outgoing_id,
                   count(*) FILTER (WHERE x.electronic) AS electronic,
                   count(*) FILTER (WHERE NOT x.electronic) AS paper,
                   count(*) FILTER (WHERE x.axis) AS axis
            FROM (
                SELECT r.outgoing_id, r.electronic,
                       r.electronic AND r.code::text NOT IN (SELECT code FROM platform) AS axis
                FROM docs.outgoing_recipient AS r
                WHERE r.tenant_id = t AND r.outgoing_id IN (SELECT id FROM sent)
            ) AS x
            GROUP BY x.outgoing_id
        ), sent_months AS (
            SELECT s.month,
                   count(*) FILTER (WHERE coalesce(d.paper, 0) = 0) AS electronic,
                   count(*) FILTER (WHERE d.paper > 0) AS paper,
                   count(*) FILTER (WHERE s.signed) AS signed,
                   coalesce(sum(d.electronic), 0)::bigint AS to_electronic,
                   coalesce(sum(d.paper), 0)::bigint AS to_paper,
                   coalesce(sum(d.axis), 0)::bigint AS to_axis
            FROM sent AS s
            LEFT JOIN deliveries AS d ON d.outgoing_id = s.id
            GROUP BY s.month
        )
        SELECT t, m.month,
               coalesce(i.electronic, 0), coalesce(i.paper, 0),
               coalesce(s.electronic, 0), coalesce(s.paper, 0), coalesce(s.signed, 0),
               coalesce(s.to_electronic, 0), coalesce(s.to_paper, 0), coalesce(s.to_axis, 0)
        FROM months AS m
        LEFT JOIN received AS i ON i.month = m.month
        LEFT JOIN sent_months AS s ON s.month = m.month;
    END LOOP;
    PERFORM set_config('app.tenant_id', coalesce(v_caller, ''), true);
END
$fn$
"""  # noqa: S608 - built from this module's constants only

# Handling by assignments, with the rules of services/docs/deadlines/figures.py: informational
# assignments (để biết) are not counted; a deadline day ends at midnight, Vietnam time; an
# assignment is overdue on a day when it is still open at the end of that day and its deadline
# was an earlier day. Per month: assignments completed (late when closed after the deadline
# day), and those open and overdue at the end of the month (or of `p_today` in the current
# month). Processing time: registration of the document to the completion of its lead
# assignment, in working days, from the working-day index the service computes from the
# calendar (`p_workdays[i]`: working days after `p_first_day` up to and including its i-th day);
# returned as a histogram so that medians can be merged across agencies and months.
HANDLING = f"""
CREATE FUNCTION docs.statistics_handling(
    p_agencies uuid[], p_from date, p_to date, p_by text, p_today date,
    p_first_day date, p_workdays integer[]
) RETURNS TABLE (
    agency_id uuid,
    month date,
    department text,
    assignee text,
    assignee_name text,
    completed bigint,
    completed_late bigint,
    open_at_end bigint,
    overdue_at_end bigint,
    processing_days integer,
    processed bigint
)
{_HEADER}
AS $fn$
#variable_conflict use_column
DECLARE
    v_caller text := current_setting('app.tenant_id', true);
    t uuid;
    v_start timestamptz := p_from::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh';
    v_end timestamptz := (p_to + interval '1 month') AT TIME ZONE 'Asia/Ho_Chi_Minh';
    v_days integer := cardinality(p_workdays);
BEGIN
    {_CHECKS}
    IF p_by NOT IN ('agency', 'department', 'person') THEN
        RAISE EXCEPTION 'statistics: group by agency, department or person';
    END IF;
    IF v_days IS NULL OR v_days = 0 OR p_first_day IS NULL THEN
        RAISE EXCEPTION 'statistics: the working-day index is missing';
    END IF;
    FOR t IN SELECT DISTINCT x FROM unnest(p_agencies) AS x WHERE x IS NOT NULL LOOP
        PERFORM set_config('app.tenant_id', t::text, true);
        RETURN QUERY
        -- Materialized: each month's end is converted from Vietnam time once, not per pair.
        WITH snapshot AS MATERIALIZED (
            SELECT m::date AS month,
                   least((m + interval '1 month')::date - 1, p_today) AS as_of,
                   (least((m + interval '1 month')::date - 1, p_today) + 1)::timestamp
                       AT TIME ZONE 'Asia/Ho_Chi_Minh' AS as_of_end
            FROM generate_series(p_from::timestamp, p_to::timestamp, interval '1 month') AS m
        ), a AS (
            SELECT x.document_id, x.role, x.state, x.deadline, x.assigned_at, x.closed_at,
                   CASE WHEN p_by = 'agency' THEN '' ELSE x.department::text END
                       AS g_department,
                   CASE WHEN p_by = 'person' THEN x.assignee::text ELSE '' END AS g_assignee,
                   CASE WHEN p_by = 'person' THEN x.assignee_name::text ELSE '' END AS g_name,
                   (x.deadline + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh' AS deadline_end
            FROM docs.assignment AS x
            WHERE x.tenant_id = t AND x.role <> 'inform'
              AND x.assigned_at < v_end AND (x.closed_at IS NULL OR x.closed_at >= v_start)
        )
        SELECT t,
               date_trunc('month', a.closed_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date,
               a.g_department, a.g_assignee, max(a.g_name),
               count(*), count(*) FILTER (WHERE a.closed_at > a.deadline_end),
               0::bigint, 0::bigint, NULL::integer, 0::bigint
        FROM a
        WHERE a.state = 'completed' AND a.closed_at >= v_start AND a.closed_at < v_end
        GROUP BY 2, 3, 4
        UNION ALL
        SELECT t, s.month, a.g_department, a.g_assignee, max(a.g_name),
               0::bigint, 0::bigint,
               count(*), count(*) FILTER (WHERE a.deadline < s.as_of),
               NULL::integer, 0::bigint
        FROM a
        JOIN snapshot AS s
          ON a.assigned_at < s.as_of_end
         AND (a.closed_at IS NULL OR a.closed_at >= s.as_of_end)
        GROUP BY 2, 3, 4
        UNION ALL
        SELECT t, w.month, w.g_department, w.g_assignee, max(w.g_name),
               0::bigint, 0::bigint, 0::bigint, 0::bigint,
               w.days, count(*)
        FROM (
            SELECT date_trunc('month', a.closed_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
                       AS month,
                   a.g_department, a.g_assignee, a.g_name,
                   p_workdays[least(greatest(
                       (a.closed_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date - p_first_day + 1,
                       1), v_days)]
                   - p_workdays[least(greatest(
                       (coalesce(d.registered_at, d.arrived_at)
                            AT TIME ZONE 'Asia/Ho_Chi_Minh')::date - p_first_day + 1,
                       1), v_days)] AS days
            FROM a
            JOIN docs.document AS d ON d.tenant_id = t AND d.id = a.document_id
            WHERE a.role = 'lead' AND a.state = 'completed'
              AND a.closed_at >= v_start AND a.closed_at < v_end
        ) AS w
        GROUP BY 2, 3, 4, w.days;
    END LOOP;
    PERFORM set_config('app.tenant_id', coalesce(v_caller, ''), true);
END
$fn$
"""  # noqa: S608 - built from this module's constants only

_SIGNATURES = (
    "docs.statistics_documents(uuid[], date, date, text[])",
    "docs.statistics_handling(uuid[], date, date, text, date, date, integer[])",
)


def upgrade() -> None:
    op.execute(DOCUMENTS)
    op.execute(HANDLING)
    for signature in _SIGNATURES:
        # Functions are executable by PUBLIC by default; only the service may count.
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO qlvb_docs_app")
    # The ranges the functions read, per agency: issued outgoing documents by issue date, and
    # assignments by closing time (open ones have none).
    op.execute(
        "CREATE INDEX ix_outgoing_issued ON docs.outgoing (tenant_id, issued_on) "
        "WHERE state IN ('issued', 'revoked')"
    )
    op.execute("CREATE INDEX ix_assignment_closed ON docs.assignment (tenant_id, closed_at)")


def downgrade() -> None:
    op.execute("DROP INDEX docs.ix_assignment_closed")
    op.execute("DROP INDEX docs.ix_outgoing_issued")
    for signature in reversed(_SIGNATURES):
        op.execute(f"DROP FUNCTION {signature}")

{#-
    The SQL `onboard validate` runs on the raw events, built from the rules staging uses
    (product_events.sql): onboard/validate/source.py renders validation_event_queries() once
    per run through dbt (`dbt compile --inline`) for the warehouse's adapter and runs what it
    returns. Nothing here is a model: these macros render text.

    What validation needs besides staging's rules: every event_id with a copy loaded in the
    window ($since, $until] (DuckDB named parameters), judged over all its copies loaded up
    to $until; one text column per property of the plan that keeps a malformed value
    visible (a `json:<kind>` marker or the JSON literal) for GX's set and pattern checks;
    how far occurred_at is ahead of when the event was known (validation_hours_ahead); and
    the daily counts of the volume check.
-#}

{#-
    How many hours occurred_at is ahead of the earlier of received_at and the load of the copy
    (columns occurred_at, received_at, loaded_at): a client whose clock runs ahead stamps both
    occurred_at and received_at in the future, and the load is the one time that is surely
    not. Null when occurred_at is null.
-#}
{% macro validation_hours_ahead() -%}
    {{ hours_between('least(coalesce(received_at, loaded_at), loaded_at)', 'occurred_at') }}
{%- endmacro %}

{#-
    One property of a usable event as text for GX: null when absent, JSON null or an empty
    string. `text` is staging's own typed value. `email` and `tier`: the string itself, and
    `json:<kind>` for any other JSON value. Integer types: the JSON literal of a non-string
    value (GX's pattern decides), `json:string` for a string.
-#}
{% macro validation_property(object_expr, name, type) -%}
    {%- set kind = json_kind(object_expr, name) -%}
    {%- set value = json_text(object_expr, name) -%}
    {%- if type == 'text' -%}
        {{ typed_property(object_expr, name, type) }}
    {%- elif type in ('email', 'tier') -%}
        case
            when {{ kind }} = 'string' then nullif({{ value }}, '')
            when {{ kind }} = 'null' then null
            else 'json:' || {{ kind }}
        end
    {%- else -%}
        case
            when {{ kind }} = 'string' then case when {{ value }} = '' then null else 'json:string' end
            when {{ kind }} = 'null' then null
            else {{ value }}
        end
    {%- endif -%}
{%- endmacro %}

{#-
    Every property of the plan as a column named after it, read on the usable events that
    declare it; each column follows a comma (`select a{{ validation_property_columns(..) }}`).
    `object_expr` none: every column null (the rows without an event_id).
-#}
{% macro validation_property_columns(object_expr, event_name_expr) -%}
    {%- for column, prop in tracking_plan_columns().items() -%}
        ,
    {% if object_expr is none -%}
    cast(null as {{ dbt.type_string() }})
    {%- else -%}
    case
        when {{ event_name_expr }} in ({{ quoted_list(prop['events']) }}) and unusable_reason is null
            then {{ validation_property(object_expr, prop['name'], prop['type']) }}
    end
    {%- endif %} as {{ adapter.quote(prop['name']) }}
    {%- endfor -%}
{%- endmacro %}

{#-
    The statements of one validation run, as a mapping of SQL texts:

    - resent_ids: creates the session's temporary table `resent_table` of the candidate
      event_ids with more than one copy (run first);
    - events: three queries, each one result (not one `union all`: DuckDB 1.4 streaming a
      union whose arms end in joins and windows stops, idle, once its result buffer fills,
      duckdb/duckdb#22215): the event_ids sent once, the kept copy of each re-sent one
      (only those are ranked: a window over every copy sorts every event), and the rows
      without an event_id. Columns: event_id, event_name, unusable_reason, hours_ahead,
      conflicting_copies (how many losing copies differ in content from the kept one,
      product_event_conflicting_copies; null when none) and one per property of the plan;
    - volume: usable copies per event type and UTC day of occurred_at over every load up
      to $until (future-dated ones, more than future_dated_hours ahead of received_at or of
      their load, left out), with
      whether the window holds rows of that day.

    every_load: the window holds every load of events (a first run), so every event_id is
    a candidate and the queries skip finding which arrived in it.
-#}
{% macro validation_event_queries(raw_schema, resent_table, every_load=false, future_dated_hours=1) -%}
    {%- set events = raw_schema ~ '.events' -%}
    {%- set in_window = "_loaded_at > $since and _loaded_at <= $until" -%}
    {%- set copies = [
        'event_id', 'event_name', 'customer_id', 'user_id', 'occurred_at', 'received_at', 'properties',
        'loaded_at',
    ] -%}

    {#- every raw copy of an event_id with a copy loaded in the window; read once per query,
        so never buffered (it is a copy of every raw event) -#}
    {%- set candidates -%}
with
{% if not every_load -%}
arrived as (
    select distinct event_id
    from {{ events }}
    where {{ product_event_has_id('event_id') }} and {{ in_window }}
),
{% endif -%}
candidates as {{ not_materialized() }} (
    select
        {{ product_event_copy_columns('events') }},
        events._loaded_at as loaded_at
    from {{ events }} as events
    where
        {{ product_event_has_id('events.event_id') }}
        and events._loaded_at <= $until
        {%- if not every_load %}
        and events.event_id in (select arrived.event_id from arrived)
        {%- endif %}
)
    {%- endset -%}

    {%- set resent_ids -%}
create temporary table {{ resent_table }} as
{{ candidates }}
select event_id
from candidates
group by event_id
having count(*) > 1
    {%- endset -%}

    {%- set sent_once -%}
kept as (
    select
        candidates.*,
        cast(null as {{ dbt.type_int() }}) as conflicting_copies
    from candidates
    left join {{ resent_table }} as resent
        on candidates.event_id = resent.event_id
    where resent.event_id is null
)
    {%- endset -%}

    {%- set first_copies -%}
resent_copies as (
    select candidates.*
    from candidates
    inner join {{ resent_table }} as resent
        on candidates.event_id = resent.event_id
),

ranked as (
    select
        *,
        {{ product_event_copy_rank() }} as copy_number
    from resent_copies
),

conflicts as (
    select
        event_id,
        count(*) as conflicting_copies
    from (
        {{ product_event_conflicting_copies('ranked') }}
    ) as conflicting
    group by event_id
),

kept as (
    select
        {% for column in copies %}ranked.{{ column }}, {% endfor %}
        conflicts.conflicting_copies
    from ranked
    left join conflicts on ranked.event_id = conflicts.event_id
    where ranked.copy_number = 1
)
    {%- endset -%}

    {%- set queries = [] -%}
    {%- for kept in [sent_once, first_copies] -%}
        {%- set query -%}
{{ candidates }},

{{ kept }},

{{ product_events_classified_ctes('kept') }}

select
    event_id,
    event_name,
    unusable_reason,
    case
        when unusable_reason is null then {{ validation_hours_ahead() }}
    end as hours_ahead,
    conflicting_copies{{ validation_property_columns('properties_object', 'event_name') }}
from classified
        {%- endset -%}
        {%- do queries.append(query) -%}
    {%- endfor -%}

    {%- set without_id -%}
select
    cast(null as {{ dbt.type_string() }}) as event_id,
    event_name,
    reason as unusable_reason,
    cast(null as {{ type_double() }}) as hours_ahead,
    cast(null as {{ dbt.type_int() }}) as conflicting_copies{{ validation_property_columns(none, none) }}
from (
    {{ product_events_without_id(events) }}
) as without_id
where loaded_at > $since and loaded_at <= $until
    {%- endset -%}
    {%- do queries.append(without_id) -%}

    {%- set volume -%}
with

copies as (
    select
        {{ product_event_copy_columns('events') }},
        events._loaded_at as loaded_at,
        case when {{ in_window }} then 1 else 0 end as in_window
    from {{ events }} as events
    where {{ product_event_has_id('events.event_id') }} and events._loaded_at <= $until
),

{{ product_events_classified_ctes('copies') }}

select
    event_name,
    cast(occurred_at as date) as day,
    count(distinct event_id) as events,
    max(in_window) as in_window
from classified
where
    unusable_reason is null
    and not coalesce({{ validation_hours_ahead() }} > {{ future_dated_hours }}, false)
group by event_name, cast(occurred_at as date)
    {%- endset -%}

    {{ return({'resent_ids': resent_ids, 'events': queries, 'volume': volume}) }}
{%- endmacro %}

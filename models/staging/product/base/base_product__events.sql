{#-
    Spark (plain Parquet tables, no row-level delete) overwrites whole partitions instead:
    the partition is the day an event_id first arrived, which later copies never change, and
    an incremental run re-decides every event_id of the days its arrivals touch.
-#}
{%- set by_partition = target.type == 'spark' %}
{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='insert_overwrite' if by_partition else 'delete+insert',
        partition_by=['first_loaded_on'] if by_partition else none,
        on_schema_change='fail',
    )
}}

{#-
    Incremental on _loaded_at: a run takes the event_ids that arrived since the last run and
    re-decides each of them over all its raw copies, so a late or backfilled copy that wins
    the de-duplication replaces the kept one, and the result equals a full refresh.
-#}

with

-- an incremental run reads it more than once: never buffered (a copy of every raw event)
raw_events as {{ not_materialized() }} (
    select * from {{ source('product', 'events') }}
),

-- noqa: disable=LT02
-- (the templater renders this CTE with or without its incremental filter, depending on
-- whether the table exists; the layout rule would ask for different indents)
-- read twice (re-sent ids, then every copy): streamed each time, never buffered
candidates as {{ not_materialized() }} (
    select *
    from raw_events
    where
        {{ product_event_has_id('event_id') }}
        {% if is_incremental() %}
        {%- set arrived_ids -%}
            select arrived.event_id
            from raw_events as arrived
            where arrived._loaded_at > (
                select coalesce(max(this.last_loaded_at), {{ try_cast_timestamp("'1900-01-01'") }})
                from {{ this }} as this
            )
        {%- endset %}
        and event_id in (
            {% if by_partition %}
            -- every event_id of the partitions (first-arrival days) the arrived ones belong to
            select event_id
            from raw_events
            group by event_id
            having cast(min(_loaded_at) as date) in (
                select cast(min(touched._loaded_at) as date)
                from raw_events as touched
                where touched.event_id in ({{ arrived_ids }})
                group by touched.event_id
            )
            {% else %}
            {{ arrived_ids }}
            {% endif %}
        )
        {% endif %}
),
-- noqa: enable=LT02

-- only the re-sent event_ids (about 1 %): an event_id that arrived once is its own only
-- copy, so the join below holds a small table instead of one row per event
repeated as (
    select
        event_id,
        count(*) as copies_received,
        min(_loaded_at) as first_loaded_at,
        max(_loaded_at) as last_loaded_at
    from candidates
    group by event_id
    having count(*) > 1
),

-- read twice (single copies, re-sent ones): streamed each time, never buffered
parsed as {{ not_materialized() }} (
    select
        {{ product_event_copy_columns('candidates') }},
        candidates.occurred_at as occurred_at_text,
        coalesce(repeated.copies_received, 1) as copies_received,
        coalesce(repeated.first_loaded_at, candidates._loaded_at) as first_loaded_at,
        coalesce(repeated.last_loaded_at, candidates._loaded_at) as last_loaded_at
    from candidates
    left join repeated on candidates.event_id = repeated.event_id
),

-- most event_ids arrive once: only the re-sent ones need ranking (a window over every row
-- would sort them all)
ranked_repeats as (
    select
        *,
        {{ product_event_copy_rank() }} as copy_number
    from parsed
    where copies_received > 1
),

{%- set parsed_columns = [
    'event_id', 'event_name', 'customer_id', 'user_id', 'occurred_at_text', 'occurred_at',
    'received_at', 'properties', 'copies_received', 'first_loaded_at', 'last_loaded_at',
] %}

kept_copies as (
    select {{ parsed_columns | join(', ') }}
    from parsed
    where copies_received = 1
    union all
    select {{ parsed_columns | join(', ') }}
    from ranked_repeats
    where copy_number = 1
),

{{ product_events_classified_ctes('kept_copies') }},

final as (
    select
        event_id,
        event_name,
        customer_id,
        user_id,
        occurred_at,
        received_at,
        properties,
        {{ tracking_plan_property_columns('properties_object', 'event_name') }},
        unusable_reason,
        case when unusable_reason is not null then occurred_at_text end as unusable_occurred_at_text,
        copies_received,
        first_loaded_at,
        last_loaded_at,
        cast(first_loaded_at as date) as first_loaded_on
    from classified
)

select * from final

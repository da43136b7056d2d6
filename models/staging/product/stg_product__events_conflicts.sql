{#- docs/definitions.md#conflicting-duplicates -#}

with

-- every raw event, read twice: streamed, not buffered (docs/benchmarks.md)
raw_events as {{ not_materialized() }} (
    select * from {{ source('product', 'events') }}
),

-- event_ids with more than one raw copy (about 1 % of them)
repeated as (
    select event_id
    from raw_events
    where {{ product_event_has_id('event_id') }}
    group by event_id
    having count(*) > 1
),

copies as (
    select
        {{ product_event_copy_columns('raw_events') }},
        raw_events._loaded_at as loaded_at
    from raw_events
    where raw_events.event_id in (select repeated.event_id from repeated)
),

ranked as (
    select
        *,
        {{ product_event_copy_rank() }} as copy_number
    from copies
),

conflicting as (
    {{ product_event_conflicting_copies('ranked') }}
),

final as (
    select
        event_id,
        copy_number,
        differing_columns,
        event_name,
        customer_id,
        user_id,
        occurred_at,
        received_at,
        properties,
        loaded_at
    from conflicting
)

select * from final

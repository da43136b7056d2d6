-- a table, not a view: several tests and models read the de-duplicated rows, and a view
-- re-ran the de-duplication for each (what that costs at scale: docs/benchmarks.md)
{{ config(materialized='table') }}

with

raw_email_events as (select * from {{ source('esp', 'email_events') }}),

-- read twice (re-sent ids, then every copy): streamed each time, never buffered
parsed as {{ not_materialized() }} (
    select
        event_id,
        customer_id,
        nullif(campaign, '') as campaign,
        event_type,
        {{ try_cast_timestamp('occurred_at') }} as occurred_at,
        _loaded_at
    from raw_email_events
    where event_id <> ''
),

-- most email events are exported once: only the event_ids exported again are ranked (a
-- window over every row sorts them all)
repeated as (
    select event_id
    from parsed
    group by event_id
    having count(*) > 1
),

ranked_repeats as (
    select
        parsed.*,
        row_number() over (
            partition by parsed.event_id
            order by
                parsed.occurred_at asc nulls last,
                parsed._loaded_at asc,
                {{ bytewise('parsed.customer_id') }} asc nulls last,
                {{ bytewise('parsed.event_type') }} asc nulls last,
                {{ bytewise('parsed.campaign') }} asc nulls last
        ) as copy_number
    from parsed
    inner join repeated on parsed.event_id = repeated.event_id
),

single_copies as (
    select parsed.*
    from parsed
    left join repeated on parsed.event_id = repeated.event_id
    where repeated.event_id is null
),

{%- set kept_columns = ['event_id', 'customer_id', 'campaign', 'event_type', 'occurred_at'] %}

kept_copies as (
    select {{ kept_columns | join(', ') }}
    from single_copies
    union all
    select {{ kept_columns | join(', ') }}
    from ranked_repeats
    where copy_number = 1
),

-- the earliest copy of each event_id; rows without a customer or a time cannot count anywhere
final as (
    select
        event_id,
        customer_id,
        campaign,
        event_type,
        occurred_at
    from kept_copies
    where
        customer_id <> ''
        and occurred_at is not null
)

select * from final

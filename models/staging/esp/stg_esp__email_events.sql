with

raw_email_events as (
    select * from {{ source('esp', 'email_events') }}
),

parsed as (
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

ranked as (
    select
        *,
        row_number() over (
            partition by event_id
            order by
                occurred_at asc nulls last,
                _loaded_at asc,
                {{ bytewise('customer_id') }} asc nulls last,
                {{ bytewise('event_type') }} asc nulls last,
                {{ bytewise('campaign') }} asc nulls last
        ) as copy_number
    from parsed
),

-- the earliest copy of each event_id; rows without a customer or a time cannot count anywhere
final as (
    select
        event_id,
        customer_id,
        campaign,
        event_type,
        occurred_at
    from ranked
    where
        copy_number = 1
        and customer_id <> ''
        and occurred_at is not null
)

select * from final

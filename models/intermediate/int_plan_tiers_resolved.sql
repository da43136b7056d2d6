with

-- read more than once: streamed each time, never buffered (a copy of every event)
events as {{ not_materialized() }} (
    select * from {{ ref('int_events_filtered_as_of') }}
),

-- every valid tier a customer was given, at signup or by a plan change; invalid ones read as null
tier_events as (
    select
        customer_id,
        event_id,
        occurred_at,
        received_at,
        plan_tier as tier
    from events
    where event_name = 'signup_completed' and plan_tier is not null

    union all

    select
        customer_id,
        event_id,
        occurred_at,
        received_at,
        to_tier as tier
    from events
    where event_name = 'plan_changed' and to_tier is not null
),

-- the last by occurred_at, then received_at, then event_id; a null received_at never wins a tie
ranked as (
    select
        *,
        row_number() over (
            partition by customer_id
            order by
                occurred_at desc,
                received_at desc nulls last,
                {{ bytewise('event_id') }} desc
        ) as recency_rank
    from tier_events
),

final as (
    select
        customer_id,
        tier as plan_tier,
        occurred_at as plan_tier_set_at
    from ranked
    where recency_rank = 1
)

select * from final

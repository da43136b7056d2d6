with

-- read more than once: streamed each time, never buffered (a copy of every event)
events as {{ not_materialized() }} (
    select * from {{ ref('int_events_filtered_as_of') }}
),

-- every valid tier a customer was given (docs/definitions.md#plan-tier)
tier_events as (
    {{ plan_tier_events('events') }}
),

-- the last by occurred_at, then received_at, then event_id; a null received_at never wins a tie
ranked as (
    select
        *,
        row_number() over (
            partition by customer_id
            order by {{ plan_tier_recency() }}
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

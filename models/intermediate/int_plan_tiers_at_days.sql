{%- set days_by_moment = {
    'checkpoint': var('checkpoint_day'),
    'expansion_window_end': var('expansion_window_days'),
} %}

-- the plan tier as of a day after signup (docs/definitions.md#plan-tier-at-day): the plan
-- tier rule over the tier assignments up to signup_at + N days, inclusive; null until the
-- customer is N days old
with

customers as (select * from {{ ref('int_customers_signed_up') }}),

-- read more than once: streamed each time, never buffered (a copy of every event)
events as {{ not_materialized() }} (
    select * from {{ ref('int_events_filtered_as_of') }}
),

tier_events as (
    {{ plan_tier_events('events') }}
),
{%- for moment, days in days_by_moment.items() %}

tiers_at_{{ moment }} as (
    select
        tier_events.customer_id,
        tier_events.tier,
        row_number() over (
            partition by tier_events.customer_id
            order by {{ plan_tier_recency() }}
        ) as recency_rank
    from tier_events
    inner join customers on tier_events.customer_id = customers.customer_id
    where tier_events.occurred_at <= {{ dbt.dateadd('day', days, 'customers.signup_at') }}
),
{%- endfor %}

final as (
    select
        customers.customer_id,
        case
            when {{ is_matured(days_by_moment['checkpoint'], 'customers.age_hours') }}
                then tiers_at_checkpoint.tier
        end as plan_tier_at_checkpoint,
        case
            when {{ is_matured(days_by_moment['expansion_window_end'], 'customers.age_hours') }}
                then tiers_at_expansion_window_end.tier
        end as plan_tier_at_expansion_window_end
    from customers
    left join tiers_at_checkpoint
        on
            customers.customer_id = tiers_at_checkpoint.customer_id
            and tiers_at_checkpoint.recency_rank = 1
    left join tiers_at_expansion_window_end
        on
            customers.customer_id = tiers_at_expansion_window_end.customer_id
            and tiers_at_expansion_window_end.recency_rank = 1
)

select * from final

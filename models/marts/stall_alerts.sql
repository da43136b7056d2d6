with

customers as (
    select * from {{ ref('onboarding_customers') }}
),

stalled as (
    select *
    from customers
    where is_stalled
),

-- by severity rule order (no rule last), then ARR x hours stalled, then customer_id: no ties
ranked as (
    select
        row_number() over (
            order by
                stall_rule_order asc nulls last,
                coalesce(arr, 0) * stall_hours desc,
                {{ bytewise('customer_id') }} asc
        ) as alert_rank,
        customer_id,
        stall_severity,
        alert_delivery,
        arr,
        stall_hours,
        stall_step,
        stalled_since,
        milestones_reached,
        milestones_missing,
        last_progress_at,
        track,
        csm_owner,
        company_name,
        email
    from stalled
),

final as (
    select * from ranked
)

select * from final

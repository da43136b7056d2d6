{%- set with_experiments = (var('experiments', []) or []) | length > 0 %}

with

customers as (select * from {{ ref('onboarding_customers') }}),
{%- if with_experiments %}

-- in a holdout arm of a running experiment: kept here, never posted (docs/definitions.md#holdout-suppression)
held_out as (
    select distinct customer_id
    from {{ ref('int_experiment_assignments') }}
    where is_holdout and is_running
),
{%- endif %}

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
        {%- if with_experiments %}
            customer_id in (select held_out.customer_id from held_out) as is_holdout,
        {%- endif %}
        email
    from stalled
),

final as (
    select * from ranked
)

select * from final

with

customers as (
    select * from {{ ref('int_customers_signed_up') }}
),

milestones_reached as (
    select * from {{ ref('int_milestones_reached') }}
),

per_customer as (
    select
        customer_id,
        sum(case when is_reached then weight else 0 end) as reached_weight,
        min(case when not is_reached then step end) as first_missing_step,
        max(reached_at) as last_reached_at,
        max(case when is_activation_milestone then reached_at end) as activated_at,
        max(case when is_activation_milestone then hours_from_signup end) as time_to_value_hours,
        {{ ordered_listagg("case when is_reached then milestone end", "','", "step") }}
            as milestones_reached,
        {{ ordered_listagg("case when not is_reached then milestone end", "','", "step") }}
            as milestones_missing
    from milestones_reached
    group by customer_id
),

first_missing as (
    select
        per_customer.*,
        milestones_reached.milestone as first_missing_milestone,
        milestones_reached.next_action as first_missing_action
    from per_customer
    left join milestones_reached
        on
            per_customer.customer_id = milestones_reached.customer_id
            and per_customer.first_missing_step = milestones_reached.step
),

scored as (
    select
        customers.customer_id,
        customers.signup_at,
        cast(
            case when first_missing.reached_weight > 100 then 100 else first_missing.reached_weight end
            as {{ dbt.type_int() }}
        ) as milestone_score,
        coalesce(first_missing.first_missing_action, '{{ var("all_milestones_action") }}')
            as next_best_action,
        first_missing.first_missing_milestone,
        first_missing.milestones_reached,
        first_missing.milestones_missing,
        first_missing.activated_at,
        first_missing.time_to_value_hours,
        case
            when first_missing.last_reached_at > customers.signup_at then first_missing.last_reached_at
            else customers.signup_at
        end as last_progress_at
    from customers
    inner join first_missing
        on customers.customer_id = first_missing.customer_id
),

final as (
    select
        customer_id,
        milestone_score,
        next_best_action,
        case
            {%- for band in var('priority_score_bands') %}
            when milestone_score < {{ band['below'] }} then '{{ band["priority"] }}'
            {%- endfor %}
            else '{{ var("lowest_priority") }}'
        end as action_priority,
        first_missing_milestone,
        milestones_reached,
        milestones_missing,
        activated_at is not null as is_activated,
        activated_at,
        time_to_value_hours,
        {%- for days in var('activation_windows_days') %}
        coalesce(
            activated_at <= {{ dbt.dateadd('day', days, 'signup_at') }}, false
        ) as activated_within_{{ days }}d,
        {%- endfor %}
        last_progress_at
    from scored
)

select * from final

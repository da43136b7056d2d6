{%- set checkpoint_day = var('checkpoint_day') %}

with

customers as (select * from {{ ref('int_customers_signed_up') }}),

milestones_reached as (select * from {{ ref('int_milestones_reached') }}),

-- each reached milestone's place in the order of reach (docs/definitions.md#second-milestone)
reach_order as (
    select
        customer_id,
        hours_from_signup,
        row_number() over (
            partition by customer_id
            order by reached_at, step
        ) as reach_number
    from milestones_reached
    where is_reached
),

-- reached within N days of signup: reached_at <= signup_at + N days, inclusive
-- (docs/definitions.md#early-progress)
early_progress as (
    select
        milestones_reached.customer_id,
        {%- for days in var('activation_windows_days') %}
        cast(sum(
            case
                when
                    milestones_reached.reached_at
                    <= {{ dbt.dateadd('day', days, 'customers.signup_at') }}
                    then 1
                else 0
            end
        ) as {{ dbt.type_int() }}) as milestones_reached_within_{{ days }}d,
        {%- endfor %}
        sum(
            case
                when
                    milestones_reached.reached_at
                    <= {{ dbt.dateadd('day', checkpoint_day, 'customers.signup_at') }}
                    then milestones_reached.weight
                else 0
            end
        ) as reached_weight_at_checkpoint
    from milestones_reached
    inner join customers on milestones_reached.customer_id = customers.customer_id
    group by milestones_reached.customer_id
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
        {%- for days in var('activation_windows_days') %}
        early_progress.milestones_reached_within_{{ days }}d,
        {%- endfor %}
        case
            when {{ is_matured(checkpoint_day, 'customers.age_hours') }} then cast(
                case
                    when early_progress.reached_weight_at_checkpoint > 100 then 100
                    else early_progress.reached_weight_at_checkpoint
                end
                as {{ dbt.type_int() }}
            )
        end as score_at_day_{{ checkpoint_day }},
        second_reached.hours_from_signup as hours_to_second_milestone,
        case
            when first_missing.last_reached_at > customers.signup_at then first_missing.last_reached_at
            else customers.signup_at
        end as last_progress_at
    from customers
    inner join first_missing on customers.customer_id = first_missing.customer_id
    inner join early_progress on customers.customer_id = early_progress.customer_id
    left join reach_order as second_reached
        on
            customers.customer_id = second_reached.customer_id
            and second_reached.reach_number = 2
),

final as (
    select
        customer_id,
        milestone_score,
        next_best_action,
        {{ priority_band('milestone_score') }} as action_priority,
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
        {%- for days in var('activation_windows_days') %}
        milestones_reached_within_{{ days }}d,
        {%- endfor %}
        score_at_day_{{ checkpoint_day }},
        hours_to_second_milestone,
        last_progress_at
    from scored
)

select * from final

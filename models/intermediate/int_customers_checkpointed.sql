{%- set checkpoint_hours = var('checkpoint_day') * 24 %}
{%- set cycle_hours = var('recovery_cycle_days') * 24 %}
{%- set onboarding, activated, recovery, win_back, exited = var('checkpoint_states') %}

-- the day-14 checkpoint state with its recovery loop (docs/definitions.md#checkpoint)
with

customers as (select * from {{ ref('int_customers_signed_up') }}),

scored as (select * from {{ ref('int_customers_scored') }}),

suppressed as (select * from {{ ref('int_customers_suppressed') }}),

final as (
    select
        customers.customer_id,
        case
            when suppressed.global_suppression then '{{ exited }}'
            when scored.is_activated then '{{ activated }}'
            when customers.age_hours < {{ checkpoint_hours }} then '{{ onboarding }}'
            {%- for cycle in range(1, var('max_recovery_cycles') + 1) %}
            when customers.age_hours < {{ checkpoint_hours + cycle * cycle_hours }}
                then '{{ recovery }}_{{ cycle }}'
            {%- endfor %}
            else '{{ win_back }}'
        end as checkpoint_state
    from customers
    inner join scored on customers.customer_id = scored.customer_id
    inner join suppressed on customers.customer_id = suppressed.customer_id
)

select * from final

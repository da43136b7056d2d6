{#- a table: the dashboard reads it whole, and a table is computed once per build -#}
{{ config(materialized='table', schema='reporting') }}
{%- set windows = var('activation_windows_days') %}

-- activation per window, track and signup cohort week over matured customers only, the rule
-- path_metrics uses (docs/definitions.md#matured): the dashboard's activation panel
with

customers as (select * from {{ ref('onboarding_customers') }}),

-- each customer once per window it has matured for
matured as (
    {%- for days in windows %}
    select
        {{ days }} as window_days,
        track,
        signup_cohort_week,
        activated_within_{{ days }}d as is_activated
    from customers
    where {{ is_matured(days) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

cells as (
    select
        window_days,
        track,
        signup_cohort_week,
        count(*) as matured_customers,
        sum(case when is_activated then 1 else 0 end) as activated_customers
    from matured
    group by window_days, track, signup_cohort_week
),

final as (
    select
        window_days,
        track,
        signup_cohort_week,
        matured_customers,
        activated_customers,
        {{ safe_share('activated_customers', 'matured_customers') }} as activation_rate
    from cells
)

select * from final

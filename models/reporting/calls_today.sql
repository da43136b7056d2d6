{#- a table: the dashboard reads it whole, and a table is computed once per build -#}
{{ config(materialized='table', schema='reporting') }}
{%- set with_experiments = (var('experiments', []) or []) | length > 0 %}
{%- set new_pql_hours = var('new_pql_hours') %}

-- who to call today (docs/definitions.md#calls-today): one row per customer and reason a CSM
-- should act on as of as_of, ranked as the alerts are: realtime stalls in alert_rank order,
-- then emergency outreach, then new product-qualified leads
with

alerts as (select * from {{ ref('stall_alerts') }}),

customers as (select * from {{ ref('onboarding_customers') }}),

-- every stall alerted in realtime (stall_alerts holds no globally suppressed customer); with
-- experiments, not the holdouts of a running one (docs/definitions.md#holdout-suppression)
realtime_stalls as (
    select
        1 as reason_order,
        alert_rank as reason_rank,
        'realtime_stall' as reason,
        customer_id,
        company_name,
        arr,
        csm_owner,
        stall_severity as detail,
        {{ days_stalled('stall_hours') }} as days_stalled,
        recovery_subject
    from alerts
    where alert_delivery = 'realtime'{% if with_experiments %} and not is_holdout{% endif %}
),

-- at churn risk, riskiest first; the score as text with two decimals
emergency_outreaches as (
    select
        2 as reason_order,
        row_number() over (
            order by
                churn_risk_score desc,
                coalesce(arr, 0) desc,
                {{ bytewise('customer_id') }} asc
        ) as reason_rank,
        'emergency_outreach' as reason,
        customer_id,
        company_name,
        arr,
        csm_owner,
        cast(cast(round(churn_risk_score, 2) as decimal(5, 2)) as {{ dbt.type_string() }}) as detail,
        cast(null as {{ dbt.type_int() }}) as days_stalled,
        cast(null as {{ dbt.type_string() }}) as recovery_subject
    from customers
    where
        risk_action = 'emergency_outreach'
        and not global_suppression
),

-- product-qualified in the new_pql_hours up to as_of: pql_at in (as_of - 24 h, as_of]
new_pqls as (
    select
        3 as reason_order,
        row_number() over (
            order by
                coalesce(arr, 0) desc,
                pql_at asc,
                {{ bytewise('customer_id') }} asc
        ) as reason_rank,
        'new_pql' as reason,
        customer_id,
        company_name,
        arr,
        csm_owner,
        pql_at_reason as detail,
        cast(null as {{ dbt.type_int() }}) as days_stalled,
        cast(null as {{ dbt.type_string() }}) as recovery_subject
    from customers
    where
        pql_at <= {{ as_of() }}
        and {{ hours_between('pql_at', as_of()) }} < {{ new_pql_hours }}
        and not global_suppression
),

calls as (
    select * from realtime_stalls
    union all
    select * from emergency_outreaches
    union all
    select * from new_pqls
),

final as (
    select
        row_number() over (order by reason_order asc, reason_rank asc) as call_rank,
        reason,
        customer_id,
        company_name,
        arr,
        csm_owner,
        detail,
        days_stalled,
        recovery_subject,
        {{ as_of() }} as as_of
    from calls
)

select * from final

{%- set holdout = var('suppression_reasons')[5] %}
{#- day_30_checkin falls due this many days after activation: the number its name carries -#}
{%- set checkin_days = 30 %}
{#- what only a stall_recovery task carries: null on the other kinds -#}
{%- set stall_columns = {
    'stall_step': dbt.type_string(),
    'stall_hours': type_double(),
    'stall_severity': dbt.type_string(),
    'recovery_subject': dbt.type_string(),
    'recovery_body': dbt.type_string(),
} %}

-- sync-facing: one row per CSM handoff task (docs/definitions.md#csm-tasks), each with a stable
-- task_id, so the sync creates it in HubSpot once: a day-30 check-in per activated customer, a
-- recovery call per realtime (P0/P1) stall episode, an emergency outreach per customer at churn
-- risk. None for a customer without an email (no contact) or without a CSM (no queue), under
-- global suppression, or in a holdout arm of a running experiment.
with

customers as (select * from {{ ref('onboarding_customers') }}),

alerts as (select * from {{ ref('stall_alerts') }}),

-- whom a CSM may call: the HubSpot contact is the lower-cased email, as crm_contacts keys it
reachable as (
    select
        *,
        lower(email) as contact_email
    from customers
    where
        email is not null
        and csm_owner is not null
        -- not in the holdout arm of a running experiment (docs/definitions.md#holdout-suppression)
        and coalesce(suppression_reason, '') <> '{{ holdout }}'
        and not global_suppression
),

-- one per activated customer, due checkin_days after activation
checkins as (
    select
        customer_id,
        'day_30_checkin' as name,  -- noqa: RF04
        cast('' as {{ dbt.type_string() }}) as task_key,
        {%- for column, type in stall_columns.items() %}
        cast(null as {{ type }}) as {{ column }},
        {%- endfor %}
        activated_at as occurred_at,
        {{ dbt.dateadd('day', checkin_days, 'activated_at') }} as due_at
    from reachable
    where activated_at is not null
),

-- one per stall episode alerted in realtime, keyed by when it began (as journey_events keys it); due now
recoveries as (
    select
        customer_id,
        'stall_recovery' as name,  -- noqa: RF04
        {{ journey_time_key('stalled_since') }} as task_key,
        {%- for column in stall_columns %}
        {{ column }},
        {%- endfor %}
        stalled_since as occurred_at,
        {{ as_of() }} as due_at
    from alerts
    where alert_delivery = 'realtime'
),

-- one per customer at churn risk: the score is not dated, so it occurs (and is due) at as_of
outreaches as (
    select
        customer_id,
        'emergency_outreach' as name,  -- noqa: RF04
        cast('' as {{ dbt.type_string() }}) as task_key,
        {%- for column, type in stall_columns.items() %}
        cast(null as {{ type }}) as {{ column }},
        {%- endfor %}
        {{ as_of() }} as occurred_at,
        {{ as_of() }} as due_at
    from reachable
    where risk_action = 'emergency_outreach'
),

tasks as (
    select * from checkins
    union all
    select * from recoveries
    union all
    select * from outreaches
),

-- the customer's context as of the build, on every kind of task
final as (
    select
        {{ dbt.hash(dbt.concat(["tasks.customer_id", "':'", "tasks.name", "':'", "tasks.task_key"])) }}
            as task_id,
        tasks.customer_id,
        tasks.name,
        tasks.task_key,
        tasks.occurred_at,
        tasks.due_at,
        reachable.contact_email,
        reachable.csm_owner,
        reachable.company_name,
        reachable.track,
        reachable.arr,
        reachable.milestones_reached,
        reachable.milestones_missing,
        {%- for column in stall_columns %}
        tasks.{{ column }},
        {%- endfor %}
        reachable.time_to_value_hours,
        reachable.churn_risk_score,
        {{ as_of() }} as as_of
    from tasks
    inner join reachable on tasks.customer_id = reachable.customer_id
)

select * from final

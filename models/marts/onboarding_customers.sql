with

customers as (select * from {{ ref('int_customers_signed_up') }}),

accounts as (select * from {{ ref('stg_billing__accounts') }}),

routed as (select * from {{ ref('int_customers_routed') }}),

scored as (select * from {{ ref('int_customers_scored') }}),

stalled as (select * from {{ ref('int_customers_stalled') }}),

at_risk as (select * from {{ ref('int_customers_at_risk') }}),

checkpointed as (select * from {{ ref('int_customers_checkpointed') }}),

suppressed as (select * from {{ ref('int_customers_suppressed') }}),

qualified as (select * from {{ ref('int_customers_product_qualified') }}),

final as (
    select
        customers.customer_id,
        customers.email,
        accounts.company_name,
        customers.signup_at,
        customers.signup_cohort_week,
        customers.age_hours,
        routed.plan_tier,
        routed.arr,
        customers.company_size,
        customers.industry,
        accounts.csm_owner,
        routed.track,
        routed.routing_confidence,
        scored.milestone_score,
        scored.next_best_action,
        scored.action_priority,
        scored.milestones_reached,
        scored.milestones_missing,
        scored.is_activated,
        scored.activated_at,
        {%- for days in var('activation_windows_days') %}
        scored.activated_within_{{ days }}d,
        {%- endfor %}
        scored.time_to_value_hours,
        {%- for days in var('activation_windows_days') %}
        scored.milestones_reached_within_{{ days }}d,
        {%- endfor %}
        scored.score_at_day_{{ var('checkpoint_day') }},
        scored.hours_to_second_milestone,
        scored.last_progress_at,
        stalled.is_stalled,
        stalled.stall_step,
        stalled.stall_hours,
        stalled.stalled_since,
        stalled.stall_rule_order,
        stalled.stall_severity,
        stalled.alert_delivery,
        at_risk.churn_risk_score,
        at_risk.risk_action,
        checkpointed.checkpoint_state,
        suppressed.subscription_status,
        suppressed.suppress_onboarding,
        suppressed.global_suppression,
        suppressed.global_suppression_since,
        suppressed.suppression_reason,
        suppressed.frequency_capped,
        qualified.is_product_qualified,
        qualified.pql_reason,
        qualified.pql_at,
        qualified.pql_at_reason
    from customers
    inner join routed on customers.customer_id = routed.customer_id
    inner join scored on customers.customer_id = scored.customer_id
    inner join stalled on customers.customer_id = stalled.customer_id
    inner join at_risk on customers.customer_id = at_risk.customer_id
    inner join checkpointed on customers.customer_id = checkpointed.customer_id
    inner join suppressed on customers.customer_id = suppressed.customer_id
    inner join qualified on customers.customer_id = qualified.customer_id
    left join accounts on customers.customer_id = accounts.customer_id
)

select * from final

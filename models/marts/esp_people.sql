-- sync-facing: one Customer.io person per customer (account), state-driven fields only
with

customers as (
    select * from {{ ref('onboarding_customers') }}
),

final as (
    select
        customer_id,
        email,
        plan_tier,
        signup_at,
        track,
        routing_confidence,
        milestone_score,
        next_best_action,
        action_priority,
        is_activated,
        activated_at,
        checkpoint_state,
        stall_step,
        stall_severity,
        stalled_since,
        risk_action,
        suppress_onboarding,
        global_suppression,
        suppression_reason,
        frequency_capped,
        {{ as_of() }} as as_of
    from customers
)

select * from final

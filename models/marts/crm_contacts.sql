-- sync-facing: only fields that change when the customer's state changes (no stall_hours, no risk score)
with

customers as (
    select * from {{ ref('onboarding_customers') }}
),

with_email as (
    select
        *,
        lower(email) as email_key
    from customers
    where email is not null
),

-- when several customers share an email, the latest signup gives the fields ...
ranked as (
    select
        *,
        row_number() over (
            partition by email_key
            order by signup_at desc, {{ bytewise('customer_id') }} desc
        ) as signup_recency
    from with_email
),

-- ... and a suppression of any of them holds for the contact
shared_flags as (
    select
        email_key,
        max(case when suppress_onboarding then 1 else 0 end) = 1 as suppress_onboarding,
        max(case when global_suppression then 1 else 0 end) = 1 as global_suppression,
        count(*) as customers_sharing_email
    from with_email
    group by email_key
),

final as (
    select
        ranked.email_key as email,
        ranked.customer_id,
        ranked.track,
        ranked.routing_confidence,
        ranked.milestone_score,
        ranked.next_best_action,
        ranked.action_priority,
        ranked.is_activated,
        ranked.activated_at,
        ranked.checkpoint_state,
        ranked.stall_step,
        ranked.stall_severity,
        ranked.stalled_since,
        ranked.risk_action,
        shared_flags.suppress_onboarding,
        shared_flags.global_suppression,
        ranked.suppression_reason,
        shared_flags.customers_sharing_email,
        {{ as_of() }} as as_of
    from ranked
    inner join shared_flags
        on ranked.email_key = shared_flags.email_key
    where ranked.signup_recency = 1
)

select * from final

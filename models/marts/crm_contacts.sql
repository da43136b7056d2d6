-- sync-facing: only fields that change when the customer's state changes (no stall_hours, no risk score)
{%- set with_experiments = (var('experiments', []) or []) | length > 0 %}

with

customers as (select * from {{ ref('onboarding_customers') }}),
{%- if with_experiments %}

-- 'name:arm' pairs by experiment name, ';'-joined (docs/definitions.md#experiment-assignment)
arms as (
    select
        customer_id,
        {{ ordered_listagg(dbt.concat(['experiment', "':'", 'arm']), "';'", bytewise('experiment')) }}
            as experiment_arms
    from {{ ref('int_experiment_assignments') }}
    group by customer_id
),
{%- endif %}

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
        ranked.is_product_qualified,
        ranked.pql_reason,
        ranked.pql_at,
        shared_flags.suppress_onboarding,
        shared_flags.global_suppression,
        ranked.suppression_reason,
        shared_flags.customers_sharing_email,
        {%- if with_experiments %}
            arms.experiment_arms,
        {%- endif %}
        {{ as_of() }} as as_of
    from ranked
    inner join shared_flags on ranked.email_key = shared_flags.email_key
    {%- if with_experiments %}
        left join arms on ranked.customer_id = arms.customer_id
    {%- endif %}
    where ranked.signup_recency = 1
)

select * from final

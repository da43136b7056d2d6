{%- set deleted, churned, unsubscribed, payment_failed, trial_expired, holdout, activated
    = var('suppression_reasons') %}

-- why a customer must not get onboarding sends (docs/definitions.md#suppression),
-- the first reason that holds
with

customers as (select * from {{ ref('int_customers_signed_up') }}),

subscriptions as (select * from {{ ref('stg_billing__subscriptions') }}),

emails as (select * from {{ ref('int_customer_emails_summarised') }}),

scored as (select * from {{ ref('int_customers_scored') }}),

assignments as (select * from {{ ref('int_experiment_assignments') }}),

-- in a holdout arm of an experiment running as of as_of (docs/definitions.md#holdout-suppression)
held_out as (
    select distinct customer_id
    from assignments
    where is_holdout and is_running
),

reasons as (
    select
        customers.customer_id,
        customers.signup_at,
        subscriptions.status as subscription_status,
        subscriptions.updated_at as subscription_updated_at,
        subscriptions.trial_ends_at,
        emails.opted_out_at,
        emails.is_frequency_capped,
        case
            when subscriptions.status = 'deleted' then '{{ deleted }}'
            when subscriptions.status = 'cancelled' then '{{ churned }}'
            when emails.has_opted_out then '{{ unsubscribed }}'
            when subscriptions.status = 'past_due' then '{{ payment_failed }}'
            when
                subscriptions.status = 'trialing'
                and subscriptions.trial_ends_at < {{ as_of() }}
                then '{{ trial_expired }}'
            when held_out.customer_id is not null then '{{ holdout }}'
            when scored.is_activated then '{{ activated }}'
        end as suppression_reason
    from customers
    inner join scored on customers.customer_id = scored.customer_id
    inner join emails on customers.customer_id = emails.customer_id
    left join subscriptions on customers.customer_id = subscriptions.customer_id
    left join held_out on customers.customer_id = held_out.customer_id
),

final as (
    select
        customer_id,
        subscription_status,
        suppression_reason,
        suppression_reason is not null as suppress_onboarding,
        -- a holdout is withheld from onboarding only: transactional and product mail still reach it
        coalesce(suppression_reason not in ('{{ holdout }}', '{{ activated }}'), false) as global_suppression,
        -- when the global suppression began (docs/definitions.md#global-suppression-since): no
        -- journey event after it; a status change of unknown time counts from signup
        case
            when suppression_reason in ('{{ deleted }}', '{{ churned }}', '{{ payment_failed }}')
                then coalesce(subscription_updated_at, signup_at)
            when suppression_reason = '{{ unsubscribed }}' then opted_out_at
            when suppression_reason = '{{ trial_expired }}' then trial_ends_at
        end as global_suppression_since,
        is_frequency_capped as frequency_capped
    from reasons
)

select * from final

with

events as (select * from {{ ref('int_events_filtered_as_of') }}),

signups as (
    select
        *,
        row_number() over (
            partition by customer_id
            order by {{ first_signup_order() }}
        ) as signup_number
    from events
    where event_name = 'signup_completed'
),

-- the earliest signup gives signup_at and the firmographics (docs/definitions.md#customer)
final as (
    select
        customer_id,
        occurred_at as signup_at,
        cast({{ dbt.date_trunc('week', 'occurred_at') }} as date) as signup_cohort_week,
        email,
        lower(email) as email_key,
        company_size,
        industry,
        role,
        signup_source,
        utm_source,
        plan_tier as signup_plan_tier,
        {{ hours_between('occurred_at', as_of()) }} as age_hours
    from signups
    where signup_number = 1
)

select * from final

with

audits as (select * from {{ ref('stg_cs__routing_audits') }}),

customers as (select * from {{ ref('onboarding_customers') }}),

-- audits made by as_of, of customers that exist as of as_of, naming a known track
counted as (
    select
        cast({{ dbt.date_trunc('month', 'audits.audited_at') }} as date) as audit_month,
        audits.audited_track = customers.track as is_agreed
    from audits
    inner join customers on audits.customer_id = customers.customer_id
    where
        audits.is_known_track
        and audits.audited_at <= {{ as_of() }}
),

monthly as (
    select
        audit_month,
        count(*) as audited,
        sum(case when is_agreed then 1 else 0 end) as agreed
    from counted
    group by audit_month
),

final as (
    select
        audit_month,
        audited,
        agreed,
        agreed * 1.0 / audited as accuracy,
        agreed * 1.0 / audited < {{ var('routing_accuracy_threshold') }} as below_threshold
    from monthly
)

select * from final

{%- set routing = var('routing') %}
{%- set all_known, tier_known, tier_unknown = var('routing_confidences') %}

-- the onboarding track (docs/definitions.md#routing): follows the current plan tier,
-- so an upgrade re-routes
with

customers as (select * from {{ ref('int_customers_signed_up') }}),

plan_tiers as (select * from {{ ref('int_plan_tiers_resolved') }}),

accounts as (select * from {{ ref('stg_billing__accounts') }}),

firmographics as (
    select
        customers.customer_id,
        plan_tiers.plan_tier,
        accounts.arr,
        customers.company_size
    from customers
    left join plan_tiers on customers.customer_id = plan_tiers.customer_id
    left join accounts on customers.customer_id = accounts.customer_id
),

final as (
    select
        customer_id,
        plan_tier,
        arr,
        company_size,
        case
            when plan_tier is null then 'standard'
            when
                plan_tier in ({{ quoted_list(routing['high_touch_tiers']) }})
                or arr >= {{ routing['high_touch_min_arr'] }}
                then 'high_touch'
            when
                plan_tier in ({{ quoted_list(routing['self_serve_tiers']) }})
                and coalesce(arr, 0) < {{ routing['self_serve_max_arr'] }}
                and coalesce(company_size, 0) < {{ routing['self_serve_max_company_size'] }}
                then 'self_serve'
            else 'standard'
        end as track,
        case
            when plan_tier is null then '{{ tier_unknown }}'
            when arr is not null and company_size is not null then '{{ all_known }}'
            else '{{ tier_known }}'
        end as routing_confidence
    from firmographics
)

select * from final

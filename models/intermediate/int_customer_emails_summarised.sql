{%- set caps = var('frequency_cap') %}
{%- set capped_conditions = [] %}
{%- for cap in caps %}
    {%- do capped_conditions.append(
        'per_customer.sends_last_' ~ cap['window_hours'] ~ 'h >= ' ~ cap['max_sends']) %}
{%- endfor %}

-- what the ESP reported per customer as of as_of: opt-outs and recent sends (frequency cap)
with

customers as (select * from {{ ref('int_customers_signed_up') }}),

email_events as (
    select * from {{ ref('stg_esp__email_events') }}
    where occurred_at <= {{ as_of() }}
),

-- sends inside each inclusive window [as_of - window_hours, as_of]
per_customer as (
    select
        customer_id,
        {%- for cap in caps %}
        sum(
            case
                when
                    event_type = 'sent'
                    and {{ hours_between('occurred_at', as_of()) }} <= {{ cap['window_hours'] }}
                    then 1
                else 0
            end
        ) as sends_last_{{ cap['window_hours'] }}h,
        {%- endfor %}
        max(case when event_type in ('unsubscribed', 'spam_reported') then 1 else 0 end)
            as has_opted_out,
        min(case when event_type in ('unsubscribed', 'spam_reported') then occurred_at end)
            as opted_out_at
    from email_events
    group by customer_id
),

final as (
    select
        customers.customer_id,
        {%- for cap in caps %}
        coalesce(per_customer.sends_last_{{ cap['window_hours'] }}h, 0)
            as sends_last_{{ cap['window_hours'] }}h,
        {%- endfor %}
        coalesce(per_customer.has_opted_out = 1, false) as has_opted_out,
        per_customer.opted_out_at,
        coalesce({{ capped_conditions | join(' or ') }}, false) as is_frequency_capped
    from customers
    left join per_customer on customers.customer_id = per_customer.customer_id
)

select * from final

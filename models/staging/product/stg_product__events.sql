with

events as (select * from {{ ref('base_product__events') }}),

usable as (
    select
        event_id,
        event_name,
        customer_id,
        user_id,
        occurred_at,
        received_at,
        {{ tracking_plan_columns().keys() | join(',\n        ') }},
        copies_received,
        last_loaded_at
    from events
    where unusable_reason is null
)

select * from usable

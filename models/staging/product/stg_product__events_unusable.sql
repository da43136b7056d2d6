with

raw_events as (select * from {{ source('product', 'events') }}),

events as (select * from {{ ref('base_product__events') }}),

unusable_after_deduplication as (
    select
        event_id,
        event_name,
        customer_id,
        unusable_occurred_at_text as occurred_at,
        properties,
        unusable_reason as reason,
        last_loaded_at as loaded_at
    from events
    where unusable_reason is not null
),

-- a null event_id cannot be de-duplicated: each such row is one unusable row
without_event_id as (
    {{ product_events_without_id('raw_events') }}
),

final as (
    select * from without_event_id
    union all
    select * from unusable_after_deduplication
)

select * from final

-- a view: a plain filter that every reader pushes down into its own scan
{{ config(materialized='view') }}

-- usable product events that had occurred by as_of; one received later still counts
-- (docs/definitions.md#as-of)
with

events as (select * from {{ ref('stg_product__events') }}),

final as (
    select *
    from events
    where occurred_at <= {{ as_of() }}
)

select * from final

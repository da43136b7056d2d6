-- a table, not a view: several tests and models read the de-duplicated rows, and a view
-- re-ran the de-duplication for each (what that costs at scale: docs/benchmarks.md)
{{ config(materialized='table') }}

with

raw_accounts as (select * from {{ source('billing', 'accounts') }}),

parsed as (
    select
        customer_id,
        nullif(company_name, '') as company_name,
        {{ try_cast_decimal('arr') }} as arr_reported,
        nullif(csm_owner, '') as csm_owner,
        {{ try_cast_timestamp('updated_at') }} as updated_at,
        _loaded_at
    from raw_accounts
    where customer_id <> ''
),

latest as (
    select
        *,
        {{ current_state_rank([
            'arr_reported desc nulls last',
            bytewise('company_name') ~ ' asc nulls last',
            bytewise('csm_owner') ~ ' asc nulls last',
        ]) }} as recency_rank
    from parsed
),

final as (
    select
        customer_id,
        company_name,
        {#- negative ARR is a validation error and reads as null (docs/definitions.md#negative-arr) -#}
        case when arr_reported >= 0 then arr_reported end as arr,
        coalesce(arr_reported < 0, false) as has_negative_arr,
        csm_owner,
        updated_at
    from latest
    where recency_rank = 1
)

select * from final

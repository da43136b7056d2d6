with

raw_subscriptions as (select * from {{ source('billing', 'subscriptions') }}),

parsed as (
    select
        customer_id,
        nullif(status, '') as status,
        {{ try_cast_timestamp('trial_ends_at') }} as trial_ends_at,
        {{ try_cast_timestamp('updated_at') }} as updated_at,
        _loaded_at
    from raw_subscriptions
    where customer_id <> ''
),

latest as (
    select
        *,
        {{ current_state_rank([
            bytewise('status') ~ ' asc nulls last',
            'trial_ends_at desc nulls last',
        ]) }} as recency_rank
    from parsed
),

final as (
    select
        customer_id,
        status,
        trial_ends_at,
        updated_at
    from latest
    where recency_rank = 1
)

select * from final

with

raw_routing_audits as (
    select * from {{ source('cs', 'routing_audits') }}
),

final as (
    select
        customer_id,
        audited_track,
        coalesce(audited_track in ({{ quoted_list(var('tracks')) }}), false) as is_known_track,
        {{ try_cast_timestamp('audited_at') }} as audited_at,
        nullif(auditor, '') as auditor
    from raw_routing_audits
    where customer_id <> ''
)

select * from final

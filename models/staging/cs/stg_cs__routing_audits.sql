with

raw_routing_audits as (select * from {{ source('cs', 'routing_audits') }}),

parsed as (
    select
        customer_id,
        audited_track,
        {{ try_cast_timestamp('audited_at') }} as audited_at,
        nullif(auditor, '') as auditor
    from raw_routing_audits
    where customer_id <> ''
),

-- an audit has no id: the same customer, instant, track and auditor is the same audit loaded
-- again (docs/definitions.md#routing-audit-grain). Every column kept is the natural key or
-- follows from it, so the copies are identical and keeping one of them is deterministic.
audits as (
    select
        customer_id,
        audited_at,
        audited_track,
        auditor
    from parsed
    group by customer_id, audited_at, audited_track, auditor
),

final as (
    select
        customer_id,
        audited_track,
        coalesce(audited_track in ({{ quoted_list(var('tracks')) }}), false) as is_known_track,
        audited_at,
        auditor
    from audits
)

select * from final

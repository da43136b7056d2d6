with

milestones_reached as (select * from {{ ref('int_milestones_reached') }}),

final as (
    select
        customer_id,
        milestone,
        step,
        weight,
        reached_at,
        hours_from_signup
    from milestones_reached
)

select * from final

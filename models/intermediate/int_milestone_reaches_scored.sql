-- each milestone a customer reached, with the milestone score and next best action right
-- after it (docs/definitions.md#journey-events): what onboarding_milestone_reached carries.
-- Milestones reached at the same instant count as reached together.
with

-- read twice: streamed each time, never buffered (five rows per customer)
milestones_reached as {{ not_materialized() }} (
    select * from {{ ref('int_milestones_reached') }}
),

milestones as (select * from {{ ref('milestones') }}),

-- each reach against every milestone of the customer (any_milestone): reached by then, or still missing
after_each as (
    select
        reached.customer_id,
        reached.milestone,
        reached.step,
        reached.reached_at,
        sum(case when any_milestone.reached_at <= reached.reached_at then any_milestone.weight else 0 end)
            as reached_weight,
        min(
            case
                when any_milestone.reached_at is null or any_milestone.reached_at > reached.reached_at
                    then any_milestone.step
            end
        ) as first_missing_step
    from milestones_reached as reached
    inner join milestones_reached as any_milestone on reached.customer_id = any_milestone.customer_id
    where reached.is_reached
    group by reached.customer_id, reached.milestone, reached.step, reached.reached_at
),

final as (
    select
        after_each.customer_id,
        after_each.milestone,
        after_each.step,
        after_each.reached_at,
        cast(
            case when after_each.reached_weight > 100 then 100 else after_each.reached_weight end
            as {{ dbt.type_int() }}
        ) as milestone_score,
        coalesce(missing.next_action, '{{ var("all_milestones_action") }}') as next_best_action
    from after_each
    left join milestones as missing on after_each.first_missing_step = missing.step
)

select * from final

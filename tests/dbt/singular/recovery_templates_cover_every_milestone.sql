-- every milestone can be a stall step, so each needs a recovery template
-- (docs/definitions.md#recovery-drafts); the rows are the milestones without one
with

milestones as (select * from {{ ref('milestones') }}),

templates as (select * from {{ ref('recovery_templates') }}),

final as (
    select milestones.milestone as milestone_without_recovery_template
    from milestones
    left join templates on milestones.milestone = templates.stall_step
    where templates.stall_step is null
)

select * from final

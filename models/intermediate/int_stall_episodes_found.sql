{%- set threshold_hours = var('stall_threshold_hours') %}
{%- set threshold_seconds = (threshold_hours * 3600) | int %}

-- every stall episode up to as_of (docs/definitions.md#stall-episodes): a gap of at least
-- stall_threshold_hours between two moments of progress (signup, a milestone's first reach),
-- or after the last one, before activation. The episode begins stall_threshold_hours after
-- the progress it follows and ends (recovers) at the next progress; the last one may be open.
with

customers as (select * from {{ ref('int_customers_signed_up') }}),

-- read three times: streamed each time, never buffered (five rows per customer)
milestones_reached as {{ not_materialized() }} (
    select * from {{ ref('int_milestones_reached') }}
),

scored as (select * from {{ ref('int_customers_scored') }}),

routed as (select * from {{ ref('int_customers_routed') }}),

milestones as (select * from {{ ref('milestones') }}),

severity_rules as (select * from {{ ref('stall_severity_rules') }}),

-- signup, then each first reach after it (a reach at or before signup is progress at signup)
progress as (
    select
        customer_id,
        signup_at as progress_at
    from customers

    union

    select
        milestones_reached.customer_id,
        milestones_reached.reached_at as progress_at
    from milestones_reached
    inner join customers on milestones_reached.customer_id = customers.customer_id
    where milestones_reached.reached_at > customers.signup_at
),

gaps as (
    select
        customer_id,
        progress_at,
        lead(progress_at) over (partition by customer_id order by progress_at) as next_progress_at,
        {{ dbt.dateadd('second', threshold_seconds, 'progress_at') }} as stalled_since
    from progress
),

-- stalled at stalled_since: not activated by then, and no progress before it (progress at
-- exactly stalled_since comes first: 0 hours since progress is no stall)
episodes as (
    select
        gaps.customer_id,
        gaps.progress_at,
        gaps.stalled_since,
        gaps.next_progress_at as recovered_at
    from gaps
    inner join scored on gaps.customer_id = scored.customer_id
    where
        (scored.activated_at is null or scored.activated_at > gaps.progress_at)
        and gaps.stalled_since <= {{ as_of() }}
        and (gaps.next_progress_at is null or gaps.next_progress_at > gaps.stalled_since)
),

-- the first step still missing when the episode began, and the first step reached when it ended
episode_steps as (
    select
        episodes.customer_id,
        episodes.stalled_since,
        min(
            case
                when
                    milestones_reached.reached_at is null
                    or milestones_reached.reached_at > episodes.progress_at
                    then milestones_reached.step
            end
        ) as stall_step_number,
        min(
            case when milestones_reached.reached_at = episodes.recovered_at then milestones_reached.step end
        ) as recovered_by_step
    from episodes
    inner join milestones_reached on episodes.customer_id = milestones_reached.customer_id
    group by episodes.customer_id, episodes.stalled_since
),

-- the first severity rule a stall meets as it begins (stall_threshold_hours stalled; ARR null counts as 0)
matched_rules as (
    select
        routed.customer_id,
        min(severity_rules.rule_order) as rule_order
    from routed
    inner join severity_rules
        on
            coalesce(routed.arr, 0) >= severity_rules.min_arr
            and {{ threshold_hours }} >= severity_rules.min_stall_hours
    group by routed.customer_id
),

final as (
    select
        episodes.customer_id,
        row_number() over (
            partition by episodes.customer_id
            order by episodes.stalled_since
        ) as episode_number,
        episodes.progress_at,
        episodes.stalled_since,
        stall_steps.milestone as stall_step,
        stall_steps.next_action as stall_next_action,
        severity_rules.severity as stall_severity,
        severity_rules.delivery as alert_delivery,
        episodes.recovered_at,
        recovered_by.milestone as recovered_by
    from episodes
    inner join episode_steps
        on
            episodes.customer_id = episode_steps.customer_id
            and episodes.stalled_since = episode_steps.stalled_since
    left join milestones as stall_steps on episode_steps.stall_step_number = stall_steps.step
    left join milestones as recovered_by on episode_steps.recovered_by_step = recovered_by.step
    left join matched_rules on episodes.customer_id = matched_rules.customer_id
    left join severity_rules on matched_rules.rule_order = severity_rules.rule_order
)

select * from final

{%- set threshold_seconds = (var('stall_threshold_hours') * 3600) | int %}

-- stall (docs/definitions.md#stall): not activated, no global suppression, no progress for
-- stall_threshold_hours
with

scored as (select * from {{ ref('int_customers_scored') }}),

suppressed as (select * from {{ ref('int_customers_suppressed') }}),

routed as (select * from {{ ref('int_customers_routed') }}),

severity_rules as (select * from {{ ref('stall_severity_rules') }}),

gaps as (
    select
        scored.customer_id,
        scored.first_missing_milestone,
        scored.last_progress_at,
        routed.arr,
        {{ hours_between('scored.last_progress_at', as_of()) }} as hours_since_progress,
        (
            not scored.is_activated
            and not suppressed.global_suppression
            and {{ hours_between('scored.last_progress_at', as_of()) }} >= {{ var('stall_threshold_hours') }}
        ) as is_stalled
    from scored
    inner join suppressed on scored.customer_id = suppressed.customer_id
    inner join routed on scored.customer_id = routed.customer_id
),

-- the first severity rule by rule_order whose minimums the stall meets (ARR null counts as 0)
matched_rules as (
    select
        gaps.customer_id,
        min(severity_rules.rule_order) as rule_order
    from gaps
    inner join severity_rules
        on
            coalesce(gaps.arr, 0) >= severity_rules.min_arr
            and gaps.hours_since_progress >= severity_rules.min_stall_hours
    where gaps.is_stalled
    group by gaps.customer_id
),

final as (
    select
        gaps.customer_id,
        gaps.is_stalled,
        case when gaps.is_stalled then gaps.hours_since_progress end as stall_hours,
        case when gaps.is_stalled then gaps.first_missing_milestone end as stall_step,
        case
            when gaps.is_stalled
                then {{ dbt.dateadd('second', threshold_seconds, 'gaps.last_progress_at') }}
        end as stalled_since,
        matched_rules.rule_order as stall_rule_order,
        severity_rules.severity as stall_severity,
        severity_rules.delivery as alert_delivery
    from gaps
    left join matched_rules on gaps.customer_id = matched_rules.customer_id
    left join severity_rules on matched_rules.rule_order = severity_rules.rule_order
)

select * from final

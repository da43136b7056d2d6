{%- set windows = var('activation_windows_days') %}
{%- set step_measures = ['age_hours', 'milestone', 'is_reached', 'hours_from_signup'] %}
{%- for days in windows %}
{%- do step_measures.append('is_reached_within_' ~ days ~ 'd') %}
{%- endfor %}
{%- do step_measures.extend(['is_previous_reached', 'hours_from_previous_step']) %}

-- where customers stop (docs/definitions.md#milestone-funnel): one row per track (and `all`)
-- and milestone, in step order
with

customers as (select * from {{ ref('onboarding_customers') }}),

milestones_reached as (select * from {{ ref('int_milestones_reached') }}),

milestones as (select * from {{ ref('milestones') }}),

tracks as (
    {{ tracks_and_all() }}
),

-- each milestone with the step before it (null for the first step)
steps as (
    select
        milestone,
        step,
        lag(step) over (order by step) as previous_step
    from milestones
),

-- each customer's milestone with the previous step's reach (null for the first step)
with_previous as (
    select
        customers.track,
        customers.age_hours,
        customers.signup_at,
        milestones_reached.milestone,
        milestones_reached.is_reached,
        milestones_reached.reached_at,
        milestones_reached.hours_from_signup,
        lag(milestones_reached.is_reached) over (
            partition by milestones_reached.customer_id order by milestones_reached.step
        ) as is_previous_reached,
        lag(milestones_reached.reached_at) over (
            partition by milestones_reached.customer_id order by milestones_reached.step
        ) as previous_reached_at
    from milestones_reached
    inner join customers on milestones_reached.customer_id = customers.customer_id
),

customer_steps as (
    select
        track,
        age_hours,
        milestone,
        is_reached,
        hours_from_signup,
        {%- for days in windows %}
        coalesce(reached_at <= {{ dbt.dateadd('day', days, 'signup_at') }}, false)
            as is_reached_within_{{ days }}d,
        {%- endfor %}
        is_previous_reached,
        -- from the previous step's reach to this one, clamped at 0; null unless both are reached
        case
            when {{ hours_between('previous_reached_at', 'reached_at') }} < 0 then 0.0
            else {{ hours_between('previous_reached_at', 'reached_at') }}
        end as hours_from_previous_step
    from with_previous
),

-- every customer's milestone once under its track and once under `all`
steps_by_track as (
    select
        track,
        {{ step_measures | join(', ') }}
    from customer_steps
    union all
    select
        'all' as track,
        {{ step_measures | join(', ') }}
    from customer_steps
),

cells as (
    select
        track,
        milestone,
        count(*) as customers,
        sum(case when is_reached then 1 else 0 end) as reached,
        {%- for days in windows %}
        sum(case when {{ is_matured(days) }} then 1 else 0 end) as matured_{{ days }}d,
        sum(case when {{ is_matured(days) }} and is_reached_within_{{ days }}d then 1 else 0 end)
            as reached_within_{{ days }}d,
        {%- endfor %}
        {{ percentile_cont('hours_from_signup', 0.5) }} as median_hours_from_signup,
        {{ percentile_cont('hours_from_signup', 0.75) }} as p75_hours_from_signup,
        {{ percentile_cont('hours_from_previous_step', 0.5) }} as median_hours_from_previous_step,
        sum(case when is_previous_reached then 1 else 0 end) as reached_previous_step,
        sum(case when is_previous_reached and not is_reached then 1 else 0 end) as dropped_off
    from steps_by_track
    group by track, milestone
),

final as (
    select
        tracks.track,
        steps.milestone,
        steps.step,
        coalesce(cells.customers, 0) as customers,
        coalesce(cells.reached, 0) as reached,
        {{ safe_share('cells.reached', 'cells.customers') }} as reach_rate,
        {%- for days in windows %}
        coalesce(cells.matured_{{ days }}d, 0) as matured_{{ days }}d,
        coalesce(cells.reached_within_{{ days }}d, 0) as reached_within_{{ days }}d,
        {{ safe_share('cells.reached_within_' ~ days ~ 'd', 'cells.matured_' ~ days ~ 'd') }}
            as reach_rate_{{ days }}d,
        {%- endfor %}
        cells.median_hours_from_signup,
        cells.p75_hours_from_signup,
        cells.median_hours_from_previous_step,
        case
            when steps.previous_step is not null then coalesce(cells.reached_previous_step, 0)
        end as reached_previous_step,
        case
            when steps.previous_step is not null
                then {{ safe_share('cells.dropped_off', 'cells.reached_previous_step') }}
        end as drop_off_from_previous_step,
        tracks.track = 'all' as is_all_tracks
    from tracks
    cross join steps
    left join cells
        on
            tracks.track = cells.track
            and steps.milestone = cells.milestone
)

select * from final

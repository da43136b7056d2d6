{%- set windows = var('activation_windows_days') %}
{%- set longest = windows | max %}
{%- set measures = ['signup_cohort_week', 'age_hours', 'hours_to_second_milestone'] %}
{%- for days in windows %}
{%- do measures.append('milestones_reached_within_' ~ days ~ 'd') %}
{%- endfor %}

-- how fast each signup cohort moves through the milestones (docs/definitions.md#adoption-velocity):
-- one row per signup cohort week with a customer and track (and `all`)
with

customers as (select * from {{ ref('onboarding_customers') }}),

tracks as (
    {{ tracks_and_all() }}
),

cohort_weeks as (
    select distinct signup_cohort_week from customers
),

-- every customer once under its track and once under `all`
customers_by_track as (
    select
        track,
        {{ measures | join(', ') }}
    from customers
    union all
    select
        'all' as track,
        {{ measures | join(', ') }}
    from customers
),

cells as (
    select
        track,
        signup_cohort_week,
        count(*) as customers,
        {%- for days in windows %}
        sum(case when {{ is_matured(days) }} then 1 else 0 end) as matured_{{ days }}d,
        sum(case when {{ is_matured(days) }} then milestones_reached_within_{{ days }}d else 0 end)
            as milestones_within_{{ days }}d,
        {%- endfor %}
        -- customers matured for the longest window who reached a second milestone within it
        {{ percentile_cont(
            'case when ' ~ is_matured(longest) ~ ' and hours_to_second_milestone <= '
            ~ (longest * 24) ~ ' then hours_to_second_milestone end',
            0.5
        ) }} as median_hours_to_second_milestone
    from customers_by_track
    group by track, signup_cohort_week
),

final as (
    select
        cohort_weeks.signup_cohort_week,
        tracks.track,
        coalesce(cells.customers, 0) as customers,
        {%- for days in windows | sort(reverse=true) %}
        coalesce(cells.matured_{{ days }}d, 0) as matured_{{ days }}d,
        {{ safe_share('cells.milestones_within_' ~ days ~ 'd', 'cells.matured_' ~ days ~ 'd') }}
            as milestones_within_{{ days }}d_mean,
        {%- endfor %}
        cells.median_hours_to_second_milestone,
        tracks.track = 'all' as is_all_tracks
    from cohort_weeks
    cross join tracks
    left join cells
        on
            cohort_weeks.signup_cohort_week = cells.signup_cohort_week
            and tracks.track = cells.track
)

select * from final

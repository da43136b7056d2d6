{%- set windows = var('activation_windows_days') %}
{%- set measures = ['age_hours', 'time_to_value_hours', 'is_stalled', 'checkpoint_state'] %}
{%- for days in windows %}
{%- do measures.append('activated_within_' ~ days ~ 'd') %}
{%- endfor %}
{%- set states = checkpoint_states() %}

with

customers as (select * from {{ ref('onboarding_customers') }}),

expected_shares as (select * from {{ ref('expected_track_shares') }}),

tracks as (
    select track from expected_shares
    union all
    select 'all' as track
),

-- every customer once under its track and once under `all`
customers_by_track as (
    select
        track as report_track,
        {{ measures | join(', ') }}
    from customers
    union all
    select
        'all' as report_track,
        {{ measures | join(', ') }}
    from customers
),

metrics as (
    select
        report_track,
        count(*) as customers,
        {%- for days in windows %}
        sum(case when {{ is_matured(days) }} then 1 else 0 end) as matured_{{ days }}d,
        sum(case when {{ is_matured(days) }} and activated_within_{{ days }}d then 1 else 0 end)
            as activated_within_{{ days }}d,
        {%- endfor %}
        {%- for state in states %}
        sum(case when checkpoint_state = '{{ state }}' then 1 else 0 end) as customers_{{ state }},
        {%- endfor %}
        {{ percentile_cont('time_to_value_hours', 0.5) }} as median_time_to_value_hours,
        {{ percentile_cont('time_to_value_hours', 0.75) }} as p75_time_to_value_hours,
        {{ percentile_cont('time_to_value_hours', 0.9) }} as p90_time_to_value_hours,
        sum(case when is_stalled then 1 else 0 end) as stalled_customers
    from customers_by_track
    group by report_track
),

final as (
    select
        tracks.track,
        coalesce(metrics.customers, 0) as customers,
        {%- for days in windows %}
        coalesce(metrics.matured_{{ days }}d, 0) as matured_{{ days }}d,
        {{ safe_share('metrics.activated_within_' ~ days ~ 'd', 'metrics.matured_' ~ days ~ 'd') }}
            as activation_rate_{{ days }}d,
        {%- endfor %}
        metrics.median_time_to_value_hours,
        metrics.p75_time_to_value_hours,
        metrics.p90_time_to_value_hours,
        coalesce(metrics.stalled_customers, 0) as stalled_customers,
        {{ safe_share('metrics.stalled_customers', 'metrics.customers') }} as stall_rate,
        {%- for state in states %}
        coalesce(metrics.customers_{{ state }}, 0) as customers_{{ state }},
        {%- endfor %}
        tracks.track = 'all' as is_all_tracks
    from tracks
    left join metrics on tracks.track = metrics.report_track
)

select * from final

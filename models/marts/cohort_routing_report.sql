{#- the report's activation rate is the 14-day one (activation_rate_14d; docs/definitions.md#matured) -#}
{%- set window_days = 14 %}

with

customers as (select * from {{ ref('onboarding_customers') }}),

expected_shares as (select * from {{ ref('expected_track_shares') }}),

cohorts as (
    select
        signup_cohort_week,
        count(*) as cohort_customers
    from customers
    group by signup_cohort_week
),

cells as (
    select
        signup_cohort_week,
        track,
        count(*) as customers,
        sum(case when {{ is_matured(window_days) }} then 1 else 0 end) as matured_14d,
        sum(case when {{ is_matured(window_days) }} and activated_within_14d then 1 else 0 end)
            as activated_within_14d,
        {{ percentile_cont('time_to_value_hours', 0.5) }} as median_time_to_value_hours,
        sum(case when is_stalled then 1 else 0 end) as stalled_customers
    from customers
    group by signup_cohort_week, track
),

-- every cohort week with a signup times every track, zero cells included
grid as (
    select
        cohorts.signup_cohort_week,
        cohorts.cohort_customers,
        expected_shares.track,
        expected_shares.expected_min_share,
        expected_shares.expected_max_share
    from cohorts
    cross join expected_shares
),

final as (
    select
        grid.signup_cohort_week,
        grid.track,
        coalesce(cells.customers, 0) as customers,
        grid.cohort_customers,
        coalesce(cells.customers, 0) * 1.0 / grid.cohort_customers as share,  -- noqa: RF04
        grid.expected_min_share,
        grid.expected_max_share,
        (
            (
                coalesce(cells.customers, 0) * 1.0 / grid.cohort_customers < grid.expected_min_share
                or coalesce(cells.customers, 0) * 1.0 / grid.cohort_customers > grid.expected_max_share
            )
            and grid.cohort_customers >= {{ var('imbalance_min_cohort_size') }}
        ) as is_imbalanced,
        {{ safe_share('cells.activated_within_14d', 'cells.matured_14d') }} as activation_rate_14d,
        cells.median_time_to_value_hours,
        coalesce(cells.stalled_customers, 0) as stalled_customers,
        {{ safe_share('cells.stalled_customers', 'cells.customers') }} as stall_rate
    from grid
    left join cells
        on
            grid.signup_cohort_week = cells.signup_cohort_week
            and grid.track = cells.track
)

select * from final

{%- set checkpoint_day = var('checkpoint_day') %}
{%- set window_days = var('expansion_window_days') %}
{%- set bands = var('priority_score_bands') %}

-- does finishing onboarding predict expansion? (docs/definitions.md#score-vs-expansion)
-- one row per track (and `all`) and band of the score at day checkpoint_day, over customers
-- of age >= expansion_window_days
with

customers as (select * from {{ ref('onboarding_customers') }}),

tiers_at_days as (select * from {{ ref('int_plan_tiers_at_days') }}),

tracks as (
    {{ tracks_and_all() }}
),

-- the bands of var priority_score_bands, lowest score first, then var lowest_priority
score_bands as (
    {%- for band in bands %}
    select
        '{{ band["priority"] }}' as score_band,
        {{ loop.index }} as band_order,
        {{ 0 if loop.first else bands[loop.index0 - 1]['below'] }} as min_score
    union all
    {%- endfor %}
    select
        '{{ var("lowest_priority") }}' as score_band,
        {{ bands | length + 1 }} as band_order,
        {{ bands[-1]['below'] if bands else 0 }} as min_score
),

eligible as (
    select
        customers.track,
        {{ priority_band('customers.score_at_day_' ~ checkpoint_day) }} as score_band,
        {{ plan_tier_rank('tiers_at_days.plan_tier_at_expansion_window_end') }}
        > {{ plan_tier_rank('tiers_at_days.plan_tier_at_checkpoint') }} as is_expanded,
        {{ plan_tier_rank('tiers_at_days.plan_tier_at_expansion_window_end') }}
        < {{ plan_tier_rank('tiers_at_days.plan_tier_at_checkpoint') }} as is_contracted,
        -- current state, not as of the window's end
        coalesce(customers.subscription_status in ('cancelled', 'deleted'), false) as is_churned,
        cast(customers.arr as {{ type_double() }}) as arr
    from customers
    inner join tiers_at_days on customers.customer_id = tiers_at_days.customer_id
    where {{ is_matured(window_days, 'customers.age_hours') }}
),

-- every eligible customer once under its track and once under `all`
eligible_by_track as (
    select
        track,
        score_band,
        is_expanded,
        is_contracted,
        is_churned,
        arr
    from eligible
    union all
    select
        'all' as track,
        score_band,
        is_expanded,
        is_contracted,
        is_churned,
        arr
    from eligible
),

cells as (
    select
        track,
        score_band,
        count(*) as customers,
        sum(case when is_expanded then 1 else 0 end) as expanded,
        sum(case when is_contracted then 1 else 0 end) as contracted,
        sum(case when is_churned then 1 else 0 end) as churned,
        count(arr) as customers_with_arr,
        avg(arr) as mean_arr
    from eligible_by_track
    group by track, score_band
),

final as (
    select
        tracks.track,
        score_bands.score_band,
        score_bands.band_order,
        score_bands.min_score,
        coalesce(cells.customers, 0) as customers,
        coalesce(cells.expanded, 0) as expanded,
        {{ safe_share('cells.expanded', 'cells.customers') }} as expansion_rate,
        coalesce(cells.contracted, 0) as contracted,
        {{ safe_share('cells.contracted', 'cells.customers') }} as contracted_rate,
        coalesce(cells.churned, 0) as churned,
        {{ safe_share('cells.churned', 'cells.customers') }} as churned_rate,
        coalesce(cells.customers_with_arr, 0) as customers_with_arr,
        cells.mean_arr,
        tracks.track = 'all' as is_all_tracks
    from tracks
    cross join score_bands
    left join cells
        on
            tracks.track = cells.track
            and score_bands.score_band = cells.score_band
)

select * from final

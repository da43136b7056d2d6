{%- set factors = [
    'no_login', 'no_feature_use', 'support_ticket_unresolved',
    'downgrade_page_visit', 'no_team_invite', 'low_onboarding_score',
] %}
{%- set thresholds = var('risk_action_thresholds') %}

-- churn risk (docs/definitions.md#churn-risk) for customers younger than risk_window_days
-- without global suppression
with

customers as (select * from {{ ref('int_customers_signed_up') }}),

activity as (select * from {{ ref('int_customer_activity_summarised') }}),

scored as (select * from {{ ref('int_customers_scored') }}),

suppressed as (select * from {{ ref('int_customers_suppressed') }}),

milestones_reached as (select * from {{ ref('int_milestones_reached') }}),

risk_factors as (select * from {{ ref('churn_risk_factors') }}),

-- the factor seed as one row: <factor>_weight, <factor>_window_hours, <factor>_min_age_hours
factor_settings as (
    select
        {%- for factor in factors %}
        max(case when factor = '{{ factor }}' then weight end) as {{ factor }}_weight,
        max(case when factor = '{{ factor }}' then window_hours end) as {{ factor }}_window_hours,
        max(case when factor = '{{ factor }}' then min_age_hours end) as {{ factor }}_min_age_hours,
        {%- endfor %}
        count(*) as factors_configured
    from risk_factors
),

team_invites as (
    select
        customer_id,
        is_reached as has_invited_teammate
    from milestones_reached
    where milestone = '{{ var("team_invite_milestone") }}'
),

flags as (
    select
        customers.customer_id,
        customers.age_hours,
        suppressed.global_suppression,
        scored.milestone_score,
        (
            customers.age_hours >= coalesce(factor_settings.no_login_min_age_hours, 0)
            and (
                activity.last_session_at is null
                or {{ hours_between('activity.last_session_at', as_of()) }}
                > factor_settings.no_login_window_hours
            )
        ) as is_no_login,
        (
            customers.age_hours >= coalesce(factor_settings.no_feature_use_min_age_hours, 0)
            and (
                activity.last_milestone_event_at is null
                or {{ hours_between('activity.last_milestone_event_at', as_of()) }}
                > factor_settings.no_feature_use_window_hours
            )
        ) as is_no_feature_use,
        activity.unresolved_tickets > 0 as has_unresolved_ticket,
        (
            activity.last_downgrade_page_view_at is not null
            and {{ hours_between('activity.last_downgrade_page_view_at', as_of()) }}
            <= factor_settings.downgrade_page_visit_window_hours
        ) as has_downgrade_page_visit,
        (
            customers.age_hours >= coalesce(factor_settings.no_team_invite_min_age_hours, 0)
            and not coalesce(team_invites.has_invited_teammate, false)
        ) as is_no_team_invite,
        factor_settings.no_login_weight,
        factor_settings.no_feature_use_weight,
        factor_settings.support_ticket_unresolved_weight,
        factor_settings.downgrade_page_visit_weight,
        factor_settings.no_team_invite_weight,
        factor_settings.low_onboarding_score_weight
    from customers
    cross join factor_settings
    inner join activity on customers.customer_id = activity.customer_id
    inner join scored on customers.customer_id = scored.customer_id
    inner join suppressed on customers.customer_id = suppressed.customer_id
    left join team_invites on customers.customer_id = team_invites.customer_id
),

summed as (
    select
        *,
        (case when is_no_login then no_login_weight else 0 end)
        + (case when is_no_feature_use then no_feature_use_weight else 0 end)
        + (case when has_unresolved_ticket then support_ticket_unresolved_weight else 0 end)
        + (case when has_downgrade_page_visit then downgrade_page_visit_weight else 0 end)
        + (case when is_no_team_invite then no_team_invite_weight else 0 end)
        + low_onboarding_score_weight * (100 - milestone_score) / 100.0 as raw_risk
    from flags
),

scored_risk as (
    select
        *,
        case
            when global_suppression then null
            when age_hours >= {{ var('risk_window_days') }} * 24 then null
            else round(cast(case when raw_risk > 1 then 1 else raw_risk end as {{ dbt.type_numeric() }}), 4)
        end as churn_risk_score
    from summed
),

final as (
    select
        customer_id,
        is_no_login,
        is_no_feature_use,
        has_unresolved_ticket,
        has_downgrade_page_visit,
        is_no_team_invite,
        churn_risk_score,
        case
            when churn_risk_score is null then null
            when churn_risk_score >= {{ thresholds['emergency_outreach'] }} then 'emergency_outreach'
            when churn_risk_score >= {{ thresholds['automated_nudge'] }} then 'automated_nudge'
            else '{{ var("default_risk_action") }}'
        end as risk_action
    from scored_risk
)

select * from final

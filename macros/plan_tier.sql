{#-
    The plan tier rule (docs/definitions.md#plan-tier), shared by int_plan_tiers_resolved
    (the tier as of as_of) and int_plan_tiers_at_days (the tier as of a day after signup).
    plan_tier_events: every valid tier a customer was given, at signup or by a plan change,
    from a relation of usable events; invalid tiers read as null and are left out.
    plan_tier_recency: the order that puts the tier in force first: the last by occurred_at,
    then received_at, then event_id; a null received_at never wins a tie.
-#}
{% macro plan_tier_events(events) -%}
    select
        customer_id,
        event_id,
        occurred_at,
        received_at,
        plan_tier as tier
    from {{ events }}
    where event_name = 'signup_completed' and plan_tier is not null

    union all

    select
        customer_id,
        event_id,
        occurred_at,
        received_at,
        to_tier as tier
    from {{ events }}
    where event_name = 'plan_changed' and to_tier is not null
{%- endmacro %}

{% macro plan_tier_recency() -%}
    occurred_at desc,
    received_at desc nulls last,
    {{ bytewise('event_id') }} desc
{%- endmacro %}

{#-
    A tier's rank (docs/definitions.md#plan-tier-rank): its position in var plan_tiers,
    listed from the lowest (free < trial < pro < enterprise); null for a null tier.
-#}
{% macro plan_tier_rank(tier_expr) -%}
    case {{ tier_expr }}
        {%- for tier in var('plan_tiers') %}
        when '{{ tier }}' then {{ loop.index }}
        {%- endfor %}
    end
{%- endmacro %}

-- product-qualified (docs/definitions.md#product-qualified): a rule of seed pql_rules holds at
-- a moment t when every condition it sets holds at t: activated_at <= t (requires_activation);
-- at least min_events events of event_name with occurred_at in [t - window_days days, t] (an
-- empty window: up to t); the plan tier in force at t one of plan_tiers; a milestone score at
-- t of at least min_milestone_score.
--
-- Candidate moments: a rule's truth changes only when one of its inputs does, and it can only
-- become true at an activated_at, an occurred_at of an event of a rule's event_name, a
-- milestone's reached_at or a tier assignment's occurred_at (an event leaving the window can
-- only make a rule false). Every rule is evaluated at each of a customer's candidates (all
-- <= as_of, events being cut at as_of) and at as_of itself: pql_at is the earliest at which
-- one holds; is_product_qualified and pql_reason are read at as_of.
with

customers as (select * from {{ ref('int_customers_signed_up') }}),

scored as (select * from {{ ref('int_customers_scored') }}),

milestones_reached as (select * from {{ ref('int_milestones_reached') }}),

rules as (select * from {{ ref('pql_rules') }}),

-- read more than once: streamed each time, never buffered (a copy of every event)
events as {{ not_materialized() }} (
    select * from {{ ref('int_events_filtered_as_of') }}
),

-- every valid tier a customer was given (docs/definitions.md#plan-tier)
tier_events as (
    {{ plan_tier_events('events') }}
),

-- the customers' events of a rule's event_name, once per rule that counts them: the only
-- events read besides the tier assignments
rule_events as (
    select
        events.customer_id,
        events.occurred_at,
        rules.rule_order,
        rules.window_days
    from events
    inner join rules on events.event_name = rules.event_name
    inner join customers on events.customer_id = customers.customer_id
),

moment_sources as (
    select
        customer_id,
        activated_at as moment_at
    from scored
    where activated_at is not null

    union all

    select
        customer_id,
        occurred_at as moment_at
    from rule_events

    union all

    select
        customer_id,
        reached_at as moment_at
    from milestones_reached
    where reached_at is not null

    union all

    select
        customer_id,
        occurred_at as moment_at
    from tier_events

    union all

    select
        customer_id,
        {{ as_of() }} as moment_at
    from customers
),

-- the candidate moments, once per customer and instant
moments as (
    select distinct
        moment_sources.customer_id,
        moment_sources.moment_at
    from moment_sources
    inner join customers on moment_sources.customer_id = customers.customer_id
),

-- the plan tier in force at each moment: the plan tier rule over the assignments at or before
-- it (an assignment at the moment itself is in force at it); a handful per customer
tiers_ranked as (
    select
        moments.customer_id,
        moments.moment_at,
        tier_events.tier,
        row_number() over (
            partition by moments.customer_id, moments.moment_at
            order by {{ plan_tier_recency() }}
        ) as recency_rank
    from moments
    inner join tier_events
        on
            moments.customer_id = tier_events.customer_id
            and moments.moment_at >= tier_events.occurred_at
),

-- the weight of the milestones reached at or before each moment (at most one row per
-- milestone of the seed per customer)
weights_at_moments as (
    select
        moments.customer_id,
        moments.moment_at,
        sum(milestones_reached.weight) as reached_weight
    from moments
    inner join milestones_reached
        on
            moments.customer_id = milestones_reached.customer_id
            and moments.moment_at >= milestones_reached.reached_at
    group by moments.customer_id, moments.moment_at
),

moment_states as (
    select
        moments.customer_id,
        moments.moment_at,
        scored.activated_at,
        tiers_ranked.tier as plan_tier,
        -- the milestone score at the moment, capped like milestone_score
        cast(
            case
                when coalesce(weights_at_moments.reached_weight, 0) > 100 then 100
                else coalesce(weights_at_moments.reached_weight, 0)
            end
            as {{ dbt.type_int() }}
        ) as milestone_score
    from moments
    left join scored on moments.customer_id = scored.customer_id
    left join tiers_ranked
        on
            moments.customer_id = tiers_ranked.customer_id
            and moments.moment_at = tiers_ranked.moment_at
            and tiers_ranked.recency_rank = 1
    left join weights_at_moments
        on
            moments.customer_id = weights_at_moments.customer_id
            and moments.moment_at = weights_at_moments.moment_at
),

-- a rule's events in its window at each moment, by one running sum per customer and rule over
-- a time-ordered stream (linear in the events, never a join of moments with events): an event
-- enters the window when it occurs (+1) and leaves it just after occurred_at + window_days
-- (-1; never, for an empty window); a probe at each moment reads the sum. At one instant
-- entries come before the probe and leaves after it: both ends of the window are inclusive.
window_stream as (
    select
        customer_id,
        rule_order,
        occurred_at as stream_at,
        0 as stream_order,
        1 as event_change,
        cast(null as {{ dbt.type_timestamp() }}) as moment_at
    from rule_events

    union all

    select
        customer_id,
        rule_order,
        {{ dbt.dateadd('day', 'window_days', 'occurred_at') }} as stream_at,
        2 as stream_order,
        -1 as event_change,
        cast(null as {{ dbt.type_timestamp() }}) as moment_at
    from rule_events
    where window_days is not null

    union all

    select
        moments.customer_id,
        rules.rule_order,
        moments.moment_at as stream_at,
        1 as stream_order,
        0 as event_change,
        moments.moment_at
    from moments
    cross join rules
),

window_counts as (
    select
        customer_id,
        rule_order,
        moment_at,
        sum(event_change) over (
            partition by customer_id, rule_order
            order by stream_at, stream_order
            rows between unbounded preceding and current row
        ) as events_in_window
    from window_stream
),

-- each rule at each moment; a condition on an unknown (no activation, no tier) does not hold
evaluated as (
    select
        window_counts.customer_id,
        window_counts.moment_at,
        window_counts.rule_order,
        coalesce(
            (not rules.requires_activation or moment_states.activated_at <= window_counts.moment_at)
            and window_counts.events_in_window >= rules.min_events
            and (
                rules.plan_tiers is null
                -- plan_tiers holds the tier as a whole pipe-delimited item
                or {{ dbt.position(
                    '(' ~ dbt.concat(["'|'", 'moment_states.plan_tier', "'|'"]) ~ ')',
                    '(' ~ dbt.concat(["'|'", 'rules.plan_tiers', "'|'"]) ~ ')'
                ) }} > 0
            )
            and (
                rules.min_milestone_score is null
                or moment_states.milestone_score >= rules.min_milestone_score
            ),
            false
        ) as is_holding
    from window_counts
    inner join rules on window_counts.rule_order = rules.rule_order
    inner join moment_states
        on
            window_counts.customer_id = moment_states.customer_id
            and window_counts.moment_at = moment_states.moment_at
    where window_counts.moment_at is not null
),

-- every holding rule, the customer's first moment first and at it the lowest rule_order
holding_ranked as (
    select
        customer_id,
        moment_at,
        rule_order,
        row_number() over (
            partition by customer_id
            order by moment_at, rule_order
        ) as holding_number
    from evaluated
    where is_holding
),

-- the first moment any rule held, and the lowest rule holding then; kept when none holds any more
first_qualified as (
    select
        customer_id,
        moment_at as pql_at,
        rule_order
    from holding_ranked
    where holding_number = 1
),

-- the lowest rule_order holding at as_of
holding_at_as_of as (
    select
        customer_id,
        min(rule_order) as rule_order
    from evaluated
    where is_holding and moment_at = {{ as_of() }}
    group by customer_id
),

final as (
    select
        customers.customer_id,
        holding_at_as_of.rule_order is not null as is_product_qualified,
        rules.pql_reason,
        first_qualified.pql_at,
        first_rules.pql_reason as pql_at_reason
    from customers
    left join holding_at_as_of on customers.customer_id = holding_at_as_of.customer_id
    left join rules on holding_at_as_of.rule_order = rules.rule_order
    left join first_qualified on customers.customer_id = first_qualified.customer_id
    left join rules as first_rules on first_qualified.rule_order = first_rules.rule_order
)

select * from final

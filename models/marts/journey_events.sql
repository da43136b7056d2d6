{%- set onboarding, activated, recovery, win_back, exited = var('checkpoint_states') %}
{%- set checkpoint_hours = var('checkpoint_day') * 24 %}
{%- set cycle_hours = var('recovery_cycle_days') * 24 %}
{%- set cycles = var('max_recovery_cycles') %}
{%- set threshold_hours = var('stall_threshold_hours') %}

-- sync-facing: one row per onboarding moment up to as_of (docs/definitions.md#journey-events),
-- each from timestamps the other models hold, so a build at the same as_of gives the same
-- events. No moment after a customer's global suppression began.
with

customers as (select * from {{ ref('onboarding_customers') }}),

reaches as (select * from {{ ref('int_milestone_reaches_scored') }}),

episodes as (select * from {{ ref('int_stall_episodes_found') }}),

templates as (select * from {{ ref('recovery_templates') }}),

-- each checkpoint boundary: recovery_<n> from checkpoint_day + (n - 1) cycles, win_back after
-- the last cycle (docs/definitions.md#checkpoint), entered when not activated by then
boundaries as (
    {%- for cycle in range(1, cycles + 2) %}
    select
        customer_id,
        '{{ recovery ~ "_" ~ cycle if cycle <= cycles else win_back }}' as checkpoint_state,
        {{ dbt.dateadd('hour', checkpoint_hours + (cycle - 1) * cycle_hours, 'signup_at') }} as entered_at,
        activated_at
    from customers
    {%- if not loop.last %}

    union all
    {% endif %}
    {%- endfor %}
),

checkpoint_entries as (
    select
        customer_id,
        checkpoint_state,
        entered_at
    from boundaries
    where
        entered_at <= {{ as_of() }}
        and (activated_at is null or activated_at > entered_at)
),

-- a reach before signup (a clock ahead) is a moment at signup
milestone_reaches as (
    select
        reaches.customer_id,
        reaches.milestone,
        reaches.step,
        reaches.milestone_score,
        reaches.next_best_action,
        case
            when reaches.reached_at < customers.signup_at then customers.signup_at else reaches.reached_at
        end as occurred_at
    from reaches
    inner join customers on reaches.customer_id = customers.customer_id
),

-- each stall episode with its recovery draft's subject as it began (docs/definitions.md#recovery-drafts)
stalls as (
    select
        episodes.customer_id,
        episodes.stalled_since,
        episodes.stall_step,
        episodes.stall_severity,
        episodes.alert_delivery,
        episodes.recovered_at,
        episodes.recovered_by,
        {{ render_recovery_text('templates.subject', {
            'company_name': 'customers.company_name',
            'milestone': 'episodes.stall_step',
            'next_best_action': 'episodes.stall_next_action',
            'csm_owner': 'customers.csm_owner',
            'days_stalled': days_stalled(threshold_hours),
        }) }} as recovery_subject
    from episodes
    inner join customers on episodes.customer_id = customers.customer_id
    left join templates on episodes.stall_step = templates.stall_step
),

moments as (
    {{ journey_moment('started', 'customers', 'customers.signup_at', data={
        'track': 'customers.track',
        'routing_confidence': 'customers.routing_confidence',
        'plan_tier': 'customers.plan_tier',
    }) }}

    union all

    {{ journey_moment('milestone_reached', 'milestone_reaches', 'milestone_reaches.occurred_at',
        key='milestone_reaches.milestone', data={
            'milestone': 'milestone_reaches.milestone',
            'step': 'milestone_reaches.step',
            'milestone_score': 'milestone_reaches.milestone_score',
            'next_best_action': 'milestone_reaches.next_best_action',
        }) }}

    union all

    {{ journey_moment('activated', 'customers', 'customers.activated_at',
        data={'time_to_value_hours': 'customers.time_to_value_hours'},
        where='customers.activated_at is not null') }}

    union all

    {{ journey_moment('stalled', 'stalls', 'stalls.stalled_since',
        key=journey_time_key('stalls.stalled_since'), data={
            'stall_step': 'stalls.stall_step',
            'stall_severity': 'stalls.stall_severity',
            'alert_delivery': 'stalls.alert_delivery',
            'recovery_subject': 'stalls.recovery_subject',
        }) }}

    union all

    {{ journey_moment('stall_recovered', 'stalls', 'stalls.recovered_at',
        key=journey_time_key('stalls.stalled_since'), data={
            'stall_step': 'stalls.stall_step',
            'recovered_by': 'stalls.recovered_by',
        }, where='stalls.recovered_at is not null') }}

    union all

    {{ journey_moment('checkpoint_entered', 'checkpoint_entries', 'checkpoint_entries.entered_at',
        key='checkpoint_entries.checkpoint_state',
        data={'checkpoint_state': 'checkpoint_entries.checkpoint_state'}) }}

    union all

    {{ journey_moment('product_qualified', 'customers', 'customers.pql_at',
        data={'pql_reason': 'customers.pql_at_reason'},
        where='customers.pql_at is not null') }}
),

final as (
    select
        {{ dbt.hash(dbt.concat(["moments.customer_id", "':'", "moments.name", "':'", "moments.event_key"])) }}
            as event_id,
        moments.customer_id,
        moments.name,
        moments.event_key,
        moments.occurred_at,
        {%- for column in journey_event_columns() %}
        moments.{{ column }},
        {%- endfor %}
        -- as of the build: the sync skips what it has not sent yet (skipped_suppressed)
        customers.global_suppression,
        {{ as_of() }} as as_of
    from moments
    inner join customers on moments.customer_id = customers.customer_id
    where
        customers.global_suppression_since is null
        or moments.occurred_at < customers.global_suppression_since
)

select * from final

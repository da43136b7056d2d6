-- sync-facing: one Customer.io person per customer (account), state-driven fields only
{%- set experiments = experiments() %}

with

customers as (select * from {{ ref('onboarding_customers') }}),
{%- if experiments %}

-- one column per experiment, exp_<name> = the arm (docs/definitions.md#experiment-assignment)
arms as (
    select
        customer_id as assigned_customer_id,
        {%- for experiment in experiments %}
            max(case when experiment = '{{ experiment.name }}' then arm end)
                as exp_{{ experiment.name }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('int_experiment_assignments') }}
    group by customer_id
),
{%- endif %}

final as (
    select
        customer_id,
        email,
        plan_tier,
        signup_at,
        track,
        routing_confidence,
        milestone_score,
        next_best_action,
        action_priority,
        is_activated,
        activated_at,
        checkpoint_state,
        stall_step,
        stall_severity,
        stalled_since,
        risk_action,
        is_product_qualified,
        pql_reason,
        pql_at,
        suppress_onboarding,
        global_suppression,
        suppression_reason,
        frequency_capped,
        {%- for experiment in experiments %}
            arms.exp_{{ experiment.name }},
        {%- endfor %}
        {{ as_of() }} as as_of
    from customers
    {%- if experiments %}
        left join arms on customers.customer_id = arms.assigned_customer_id
    {%- endif %}
)

select * from final

{%- set with_experiments = (var('experiments', []) or []) | length > 0 %}

with

customers as (select * from {{ ref('onboarding_customers') }}),
{%- if with_experiments %}

-- in a holdout arm of a running experiment: kept here, never posted (docs/definitions.md#holdout-suppression)
held_out as (
    select distinct customer_id
    from {{ ref('int_experiment_assignments') }}
    where is_holdout and is_running
),
{%- endif %}

templates as (select * from {{ ref('recovery_templates') }}),

-- with the recovery draft for the step stalled at, as of now (docs/definitions.md#recovery-drafts)
stalled as (
    {%- set placeholders = {
        'company_name': 'customers.company_name',
        'milestone': 'customers.stall_step',
        'next_best_action': 'customers.next_best_action',
        'csm_owner': 'customers.csm_owner',
        'days_stalled': days_stalled('customers.stall_hours'),
    } %}
    select
        customers.*,
        {{ render_recovery_text('templates.subject', placeholders) }} as recovery_subject,
        {{ render_recovery_text('templates.body', placeholders) }} as recovery_body
    from customers
    left join templates on customers.stall_step = templates.stall_step
    where customers.is_stalled
),

-- by severity rule order (no rule last), then ARR x hours stalled, then customer_id: no ties
ranked as (
    select
        row_number() over (
            order by
                stall_rule_order asc nulls last,
                coalesce(arr, 0) * stall_hours desc,
                {{ bytewise('customer_id') }} asc
        ) as alert_rank,
        customer_id,
        stall_severity,
        alert_delivery,
        arr,
        stall_hours,
        stall_step,
        stalled_since,
        milestones_reached,
        milestones_missing,
        last_progress_at,
        track,
        csm_owner,
        company_name,
        recovery_subject,
        recovery_body,
        {%- if with_experiments %}
            customer_id in (select held_out.customer_id from held_out) as is_holdout,
        {%- endif %}
        email
    from stalled
),

final as (
    select * from ranked
)

select * from final

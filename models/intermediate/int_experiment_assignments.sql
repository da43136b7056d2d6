{%- set experiments = experiments() %}

-- every eligible customer's arm in each configured experiment (docs/definitions.md#experiment-assignment):
-- eligibility only from what the first signup fixes, the arm from a hash of name and customer_id
with

-- signup_plan_tier: the first signup's valid plan_tier
customers as (select * from {{ ref('int_customers_signed_up') }}),

{% if experiments %}
hashed as (
    {%- for experiment in experiments %}
    select
        '{{ experiment.name }}' as experiment,
        customer_id,
        signup_at,
        {{ experiment_hash(experiment.name, 'customer_id') }} as assignment_hash
    from customers
    where
        signup_at >= {{ experiment_time(experiment.starts_at) }}
        {%- if experiment.ends_at is not none %}
            and signup_at < {{ experiment_time(experiment.ends_at) }}
        {%- endif %}
        {%- if experiment.plan_tiers is not none %}
            and signup_plan_tier in ({{ quoted_list(experiment.plan_tiers) }})
        {%- endif %}
        {%- if experiment.signup_sources is not none %}
            and signup_source in ({{ quoted_list(experiment.signup_sources) }})
        {%- endif %}
    {%- if not loop.last %}

    union all
    {% endif %}
    {%- endfor %}
),

-- the first arm in config order whose cumulative weight exceeds u = assignment_hash / 2^32
armed as (
    select
        experiment,
        customer_id,
        signup_at,
        assignment_hash,
        case
            {%- for experiment in experiments %}
                {%- set bounds = experiment_arm_bounds(experiment) %}
                {%- for arm in experiment.arms %}
                    when
                        experiment = '{{ experiment.name }}'
                        {%- if not loop.last %}
                            and assignment_hash < {{ bounds[loop.index0] }}
                        {%- endif %}
                        then '{{ arm.name }}'
                {%- endfor %}
            {%- endfor %}
        end as arm
    from hashed
),

final as (
    select
        experiment,
        customer_id,
        arm,
        case
            {%- for experiment in experiments %}
                {%- set holdouts = experiment.arms | selectattr('holdout') | map(attribute='name') | list %}
                when experiment = '{{ experiment.name }}'
                    then {% if holdouts %}arm in ({{ quoted_list(holdouts) }}){% else %}false{% endif %}
            {%- endfor %}
        end as is_holdout,
        case
            {%- for experiment in experiments %}
                when experiment = '{{ experiment.name }}'
                    then
                        {{ as_of() }} >= {{ experiment_time(experiment.starts_at) }}
                        {%- if experiment.ends_at is not none %}
                            and {{ as_of() }} < {{ experiment_time(experiment.ends_at) }}
                        {%- endif %}
            {%- endfor %}
        end as is_running,
        signup_at as assigned_at,
        assignment_hash
    from armed
)

{% else %}
-- no experiment configured: no rows, the same columns
final as (
    select
        cast(null as {{ dbt.type_string() }}) as experiment,
        customer_id,
        cast(null as {{ dbt.type_string() }}) as arm,
        cast(null as boolean) as is_holdout,
        cast(null as boolean) as is_running,
        signup_at as assigned_at,
        cast(null as {{ dbt.type_bigint() }}) as assignment_hash
    from customers
    where 1 = 0
)
{% endif %}

select * from final

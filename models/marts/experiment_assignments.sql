-- built only when var `experiments` names one (with none, the marts are exactly as without experiments)
{{ config(enabled=(var('experiments', []) or []) | length > 0) }}

-- one row per experiment x eligible customer (docs/definitions.md#experiment-assignment)
with

assignments as (select * from {{ ref('int_experiment_assignments') }}),

customers as (select * from {{ ref('onboarding_customers') }}),

final as (
    select
        assignments.experiment,
        assignments.customer_id,
        assignments.arm,
        assignments.is_holdout,
        assignments.assigned_at,
        customers.track
    from assignments
    inner join customers on assignments.customer_id = customers.customer_id
)

select * from final

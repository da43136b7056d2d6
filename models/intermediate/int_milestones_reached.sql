with

customers as (select * from {{ ref('int_customers_signed_up') }}),

events as (select * from {{ ref('int_events_filtered_as_of') }}),

milestones as (select * from {{ ref('milestones') }}),

first_occurrences as (
    select
        events.customer_id,
        events.event_name,
        min(events.occurred_at) as reached_at
    from events
    inner join milestones on events.event_name = milestones.event_name
    group by events.customer_id, events.event_name
),

customer_milestones as (
    select
        customers.customer_id,
        customers.signup_at,
        milestones.milestone,
        milestones.step,
        milestones.weight,
        milestones.next_action,
        first_occurrences.reached_at
    from customers
    cross join milestones
    left join first_occurrences
        on
            customers.customer_id = first_occurrences.customer_id
            and milestones.event_name = first_occurrences.event_name
),

final as (
    select
        customer_id,
        milestone,
        step,
        weight,
        next_action,
        reached_at,
        reached_at is not null as is_reached,
        milestone = '{{ var("activation_milestone") }}' as is_activation_milestone,
        case
            when reached_at is null then null
            when {{ hours_between('signup_at', 'reached_at') }} < 0 then 0.0
            else {{ hours_between('signup_at', 'reached_at') }}
        end as hours_from_signup
    from customer_milestones
)

select * from final

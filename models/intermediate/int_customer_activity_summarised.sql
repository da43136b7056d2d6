-- the product activity the churn-risk factors look at, per customer, as of as_of
with

customers as (select * from {{ ref('int_customers_signed_up') }}),

-- read more than once: streamed each time, never buffered (a copy of every event)
events as {{ not_materialized() }} (
    select * from {{ ref('int_events_filtered_as_of') }}
),

milestones as (select * from {{ ref('milestones') }}),

activity as (
    select
        events.customer_id,
        max(case when events.event_name = 'session_started' then events.occurred_at end)
            as last_session_at,
        max(case when milestones.event_name is not null then events.occurred_at end)
            as last_milestone_event_at,
        max(case when events.event_name = 'downgrade_page_viewed' then events.occurred_at end)
            as last_downgrade_page_view_at
    from events
    left join milestones on events.event_name = milestones.event_name
    group by events.customer_id
),

-- per ticket: the latest open and the latest resolve (opens without a ticket_id are ignored)
tickets as (
    select
        customer_id,
        ticket_id,
        max(case when event_name = 'support_ticket_opened' then occurred_at end) as last_opened_at,
        max(case when event_name = 'support_ticket_resolved' then occurred_at end) as last_resolved_at
    from events
    where
        event_name in ('support_ticket_opened', 'support_ticket_resolved')
        and ticket_id is not null
    group by customer_id, ticket_id
),

-- a ticket is unresolved when some open has no resolve at or after it, i.e. when its latest
-- open is later than its latest resolve (a reopened ticket counts until resolved again)
open_tickets as (
    select
        customer_id,
        count(*) as unresolved_tickets
    from tickets
    where
        last_opened_at is not null
        and (last_resolved_at is null or last_resolved_at < last_opened_at)
    group by customer_id
),

final as (
    select
        customers.customer_id,
        activity.last_session_at,
        activity.last_milestone_event_at,
        activity.last_downgrade_page_view_at,
        coalesce(open_tickets.unresolved_tickets, 0) as unresolved_tickets
    from customers
    left join activity on customers.customer_id = activity.customer_id
    left join open_tickets on customers.customer_id = open_tickets.customer_id
)

select * from final

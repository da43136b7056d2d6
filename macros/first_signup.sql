{#-
    The order that makes one signup_completed event a customer's first
    (docs/definitions.md#customer): occurred_at, then received_at (a null never wins a tie),
    then event_id. Read by int_customers_signed_up (signup_at, the firmographics and the first signup's
    plan_tier, which int_experiment_assignments filters on).
-#}
{% macro first_signup_order() -%}
    occurred_at asc,
    received_at asc nulls last,
    {{ bytewise('event_id') }} asc
{%- endmacro %}

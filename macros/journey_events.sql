{#-
    The journey events' moments (docs/definitions.md#journey-events) as rows of one shape:
    journey_event_columns() are the data columns every moment carries (null where the moment
    has none of that datum), in order, with their types; journey_moment() selects one kind of
    moment from `relation` in that shape.
-#}
{#- Every moment's name: var journey_event_prefix + the moment, in lifecycle order. -#}
{% macro journey_event_names() -%}
    {%- set names = [] -%}
    {%- for moment in [
        'started', 'milestone_reached', 'activated', 'stalled', 'stall_recovered',
        'checkpoint_entered', 'product_qualified',
    ] -%}
        {%- do names.append(var('journey_event_prefix') ~ moment) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{% macro journey_event_columns() -%}
    {%- set text, int, double = dbt.type_string(), dbt.type_int(), type_double() -%}
    {{ return({
        'track': text,
        'routing_confidence': text,
        'plan_tier': text,
        'milestone': text,
        'step': int,
        'milestone_score': int,
        'next_best_action': text,
        'time_to_value_hours': double,
        'stall_step': text,
        'stall_severity': text,
        'alert_delivery': text,
        'recovery_subject': text,
        'recovered_by': text,
        'checkpoint_state': text,
        'pql_reason': text,
    }) }}
{%- endmacro %}

{#-
    One kind of moment: `moment` (the name without var journey_event_prefix), when it
    occurred (`occurred_at`, an expression), its key among the customer's moments of that
    name (`key`, '' when a customer has at most one), and `data`: column -> expression for
    the data columns it carries. `where` filters the rows of `relation`.
-#}
{% macro journey_moment(moment, relation, occurred_at, key="''", data={}, where=none) -%}
    select
        {{ relation }}.customer_id,
        '{{ var("journey_event_prefix") ~ moment }}' as name,
        cast({{ key }} as {{ dbt.type_string() }}) as event_key,
        {{ occurred_at }} as occurred_at,
        {%- for column, type in journey_event_columns().items() %}
        cast({{ data.get(column, 'null') }} as {{ type }}) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    {%- if where %}
    where {{ where }}
    {%- endif %}
{%- endmacro %}

{#- A moment's key from a timestamp: whole epoch seconds (floored) as text, the same on every adapter. -#}
{% macro journey_time_key(timestamp_expr) -%}
    cast(cast(floor({{ epoch_seconds(timestamp_expr) }}) as {{ dbt.type_bigint() }}) as {{ dbt.type_string() }})
{%- endmacro %}

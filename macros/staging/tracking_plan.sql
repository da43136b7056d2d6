{#-
    Typed property columns from the tracking plan (var `tracking_plan` in dbt_project.yml).
    One column per property name of the plan; a property is read only on the events that
    declare it; a value that is absent, JSON null, empty or malformed reads as null.
-#}

{#- {column: {'name': .., 'type': .., 'events': [..]}} for every property of the plan, in plan order. -#}
{% macro tracking_plan_columns() -%}
    {%- set columns = {} -%}
    {%- for event_name, spec in var('tracking_plan').items() -%}
        {%- for kind in ['required', 'optional'] -%}
            {%- for name, prop in ((spec or {}).get(kind) or {}).items() -%}
                {%- set column = prop.get('column', name) -%}
                {%- if column not in columns -%}
                    {%- do columns.update({column: {'name': name, 'type': prop['type'], 'events': []}}) -%}
                {%- endif -%}
                {%- do columns[column]['events'].append(event_name) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}

{#- The SQL list of the plan's event names, for `in (...)`. -#}
{% macro tracking_plan_event_list() -%}
    {{ quoted_list(var('tracking_plan').keys()) }}
{%- endmacro %}

{#- One property of a json object, typed as the tracking plan says; null when not valid. -#}
{% macro typed_property(object_expr, name, type) -%}
    {%- set kind = json_kind(object_expr, name) -%}
    {%- set value = json_text(object_expr, name) -%}
    {%- if type == 'text' -%}
        case when {{ kind }} in ('string', 'integer', 'number') then nullif({{ value }}, '') end
    {%- elif type == 'email' -%}
        case
            when {{ kind }} = 'string' and {{ regex_matches(value, var('email_pattern')) }}
                then {{ value }}
        end
    {%- elif type == 'tier' -%}
        case
            when {{ kind }} = 'string' and {{ value }} in ({{ quoted_list(var('plan_tiers')) }})
                then {{ value }}
        end
    {%- elif type in ('positive_integer', 'non_negative_integer') -%}
        {%- set minimum = 1 if type == 'positive_integer' else 0 -%}
        {#- nested so the cast only sees integer texts (AND does not fix an order) -#}
        case
            when {{ kind }} = 'integer' and {{ dbt.length(value) }} <= 18 then
                case
                    when cast({{ value }} as {{ dbt.type_bigint() }}) >= {{ minimum }}
                        then cast({{ value }} as {{ dbt.type_bigint() }})
                end
        end
    {%- else -%}
        {{ exceptions.raise_compiler_error("tracking_plan: unknown property type " ~ type) }}
    {%- endif -%}
{%- endmacro %}

{#- The typed columns of every tracking-plan property, read from object_expr. -#}
{% macro tracking_plan_property_columns(object_expr, event_name_expr) -%}
    {%- for column, prop in tracking_plan_columns().items() %}
    case
        when {{ event_name_expr }} in ({{ quoted_list(prop['events']) }})
            then {{ typed_property(object_expr, prop['name'], prop['type']) }}
    end as {{ column }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

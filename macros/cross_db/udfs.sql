{#-
    Small SQL functions some adapters lack (a safe timestamp cast, a safe JSON parse),
    created by the on-run-start hook in the target schema. DuckDB needs none.
-#}

{% macro onboard_udf(name) -%}
    {{ target.schema }}.onboard_{{ name }}
{%- endmacro %}

{% macro create_udfs() -%}
    {{ return(adapter.dispatch('create_udfs', 'onboarding_paths')()) }}
{%- endmacro %}

{% macro default__create_udfs() -%}
    select 1
{%- endmacro %}

{% macro postgres__create_udfs() -%}
    create schema if not exists {{ target.schema }};

    create or replace function {{ onboard_udf('try_timestamp') }}(value text)
    returns timestamp
    language plpgsql immutable
    set timezone = 'UTC'
    as $$
    begin
        return (value::timestamptz at time zone 'UTC');
    exception when others then
        return null;
    end;
    $$;

    create or replace function {{ onboard_udf('try_json_object') }}(value text)
    returns jsonb
    language plpgsql immutable
    as $$
    declare
        parsed jsonb;
    begin
        parsed := value::jsonb;
        if jsonb_typeof(parsed) = 'object' then
            return parsed;
        end if;
        return null;
    exception when others then
        return null;
    end;
    $$;
{%- endmacro %}

{#-
    Time helpers. Elapsed time is always an exact difference of epoch seconds:
    dbt.datediff counts calendar boundaries, so "48 hours" would be wrong with it.
-#}

{% macro epoch_seconds(timestamp_expr) -%}
    {{ return(adapter.dispatch('epoch_seconds', 'onboarding_paths')(timestamp_expr)) }}
{%- endmacro %}

{#-
    Seconds since 1970-01-01 as a double, as DuckDB's epoch() gives them. (PostgreSQL's
    extract returns numeric; its hours would be numeric too, shown as 147.0000000000000000
    where DuckDB shows 147.0, and compared with another precision.)
-#}
{% macro default__epoch_seconds(timestamp_expr) -%}
    cast(extract(epoch from {{ timestamp_expr }}) as double precision)
{%- endmacro %}

{% macro duckdb__epoch_seconds(timestamp_expr) -%}
    epoch({{ timestamp_expr }})
{%- endmacro %}

{% macro spark__epoch_seconds(timestamp_expr) -%}
    (unix_micros({{ timestamp_expr }}) / 1000000.0)
{%- endmacro %}

{#- Exact hours from start_expr to end_expr, fractional; negative when end is earlier. -#}
{% macro hours_between(start_expr, end_expr) -%}
    (({{ epoch_seconds(end_expr) }} - {{ epoch_seconds(start_expr) }}) / 3600.0)
{%- endmacro %}

{#-
    Parse a text as a UTC timestamp; null when it cannot be parsed (never an error).
    A text with an offset is converted to UTC; a text without one is taken as UTC.
-#}
{% macro try_cast_timestamp(text_expr) -%}
    {{ return(adapter.dispatch('try_cast_timestamp', 'onboarding_paths')(text_expr)) }}
{%- endmacro %}

{% macro default__try_cast_timestamp(text_expr) -%}
    {{ onboard_udf('try_timestamp') }}({{ text_expr }})
{%- endmacro %}

{#-
    The usual offset-free forms (`...Z`, or no zone at all) take DuckDB's fast plain cast,
    which reads them as the same instant; anything else goes through ICU's timestamptz
    parse (much slower) so offsets and zone names convert to UTC.
-#}
{% macro duckdb__try_cast_timestamp(text_expr) -%}
    case
        when
            {{ text_expr }} like '____-__-__T__:__:__Z'
            or {{ text_expr }} like '____-__-__ __:__:__'
            then try_cast({{ text_expr }} as timestamp)
        else cast(timezone('UTC', try_cast({{ text_expr }} as timestamptz)) as timestamp)
    end
{%- endmacro %}

{#-
    Spark's cast reads offsets and converts them to the session time zone (UTC, profiles.yml).
    It also reads forms DuckDB does not ('2026' alone, 'yesterday', 'today', 'now'), so only
    texts that start with a dashed date (or are 'epoch') are cast: the generated data and the
    unit tests' edge cases read the same on both. Known differences (docs/spark.md): DuckDB
    also reads '/' or ' ' date separators and 24:00:00, which read as null here.
-#}
{% macro spark__try_cast_timestamp(text_expr) -%}
    case
        when
            {{ regex_matches(text_expr, '^\s*-?[0-9]{1,6}-[0-9]{1,2}-[0-9]{1,2}([^0-9]|$)') }}
            or lower(trim({{ text_expr }})) = 'epoch'
            then try_cast({{ text_expr }} as timestamp)
    end
{%- endmacro %}

{#- The as_of var as a timestamp literal (UTC). Default: the moment the run started. -#}
{% macro as_of() -%}
    {%- set value = var('as_of', none) -%}
    {%- if value is none or value == '' -%}
        {%- set value = run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') -%}
    {%- endif -%}
    {{ try_cast_timestamp("'" ~ value ~ "'") }}
{%- endmacro %}

{#- Does text_expr match the regular expression pattern as a whole? (pattern carries ^ and $) -#}
{% macro regex_matches(text_expr, pattern) -%}
    {{ return(adapter.dispatch('regex_matches', 'onboarding_paths')(text_expr, pattern)) }}
{%- endmacro %}

{% macro default__regex_matches(text_expr, pattern) -%}
    ({{ text_expr }} ~ '{{ pattern }}')
{%- endmacro %}

{% macro duckdb__regex_matches(text_expr, pattern) -%}
    regexp_matches({{ text_expr }}, '{{ pattern }}')
{%- endmacro %}

{#- Spark's SQL parser reads backslash escapes in literals: '\s' must be written '\\s'. -#}
{% macro spark__regex_matches(text_expr, pattern) -%}
    ({{ text_expr }} rlike '{{ pattern | replace("\\", "\\\\") }}')
{%- endmacro %}

{#- Order texts by their bytes, the same on every adapter (PostgreSQL sorts by locale). -#}
{% macro bytewise(text_expr) -%}
    {{ return(adapter.dispatch('bytewise', 'onboarding_paths')(text_expr)) }}
{%- endmacro %}

{% macro default__bytewise(text_expr) -%}
    {{ text_expr }}
{%- endmacro %}

{% macro postgres__bytewise(text_expr) -%}
    {{ text_expr }} collate "C"
{%- endmacro %}

{#- Parse a decimal text (e.g. "-1200.50") as a number; null when it is not one. -#}
{% macro try_cast_decimal(text_expr) -%}
    case
        when {{ regex_matches(text_expr, '^-?[0-9]{1,18}(\.[0-9]{1,6})?$') }}
            then cast({{ text_expr }} as {{ dbt.type_numeric() }})
    end
{%- endmacro %}

{#- A SQL list of text literals for `in (...)`: ['a', 'b'] -> 'a', 'b'. -#}
{% macro quoted_list(values) -%}
    {%- for value in values -%}'{{ value }}'{{ ", " if not loop.last }}{%- endfor -%}
{%- endmacro %}

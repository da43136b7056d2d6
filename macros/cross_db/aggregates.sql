{#- Continuous percentile (interpolated, like percentile_cont) of expr, as an aggregate. -#}
{% macro percentile_cont(expr, fraction) -%}
    {{ return(adapter.dispatch('percentile_cont', 'onboarding_paths')(expr, fraction)) }}
{%- endmacro %}

{% macro default__percentile_cont(expr, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expr }})
{%- endmacro %}

{% macro duckdb__percentile_cont(expr, fraction) -%}
    quantile_cont({{ expr }}, {{ fraction }})
{%- endmacro %}

{% macro spark__percentile_cont(expr, fraction) -%}
    percentile({{ expr }}, {{ fraction }})
{%- endmacro %}

{#-
    Share numerator / denominator as a fraction; null when the denominator is 0. A double
    on every adapter (DuckDB divides to a double; PostgreSQL would give a 20-digit numeric).
-#}
{% macro safe_share(numerator, denominator) -%}
    case
        when {{ denominator }} > 0
            then cast({{ numerator }} as double precision) / {{ denominator }}
    end
{%- endmacro %}

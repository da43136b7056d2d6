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
            then cast({{ numerator }} as {{ type_double() }}) / {{ denominator }}
    end
{%- endmacro %}

{#-
    The non-null values of value_expr joined by delimiter (a SQL text literal) in the order
    of order_expr, as an aggregate; null when there are none (dbt.listagg, whose order by
    Spark lacks: there the pairs are collected, sorted and joined).
-#}
{% macro ordered_listagg(value_expr, delimiter, order_expr) -%}
    {{ return(adapter.dispatch('ordered_listagg', 'onboarding_paths')(value_expr, delimiter, order_expr)) }}
{%- endmacro %}

{% macro default__ordered_listagg(value_expr, delimiter, order_expr) -%}
    {{ dbt.listagg(value_expr, delimiter, "order by " ~ order_expr) }}
{%- endmacro %}

{% macro spark__ordered_listagg(value_expr, delimiter, order_expr) -%}
    nullif(
        array_join(
            transform(
                array_sort(collect_list(
                    case when ({{ value_expr }}) is not null
                        then named_struct('k', {{ order_expr }}, 'v', {{ value_expr }})
                    end
                )),
                pair -> pair.v
            ),
            {{ delimiter }}
        ),
        ''
    )
{%- endmacro %}

{#- An 8-byte float type: `double precision` in standard SQL, `double` on Spark. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'onboarding_paths')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}

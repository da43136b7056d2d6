{#-
    `as {{ not_materialized() }} (...)`: a CTE that is read more than once but must not be
    buffered. DuckDB (1.4) and PostgreSQL materialise a CTE read twice; for a scan of every
    raw event that is a full copy spilled to disk (docs/benchmarks.md), where
    reading the table again streams. Engines without the hint plan CTEs themselves.
-#}
{% macro not_materialized() -%}
    {{ return(adapter.dispatch('not_materialized', 'onboarding_paths')()) }}
{%- endmacro %}

{% macro default__not_materialized() -%}{%- endmacro %}

{% macro duckdb__not_materialized() -%}not materialized{%- endmacro %}

{% macro postgres__not_materialized() -%}not materialized{%- endmacro %}

{#-
    dbt unit tests on PostgreSQL: the expected rows of a plain `numeric` column.

    dbt types each expected value with the data type PostgreSQL reports for the model's
    column, then compares actual and expected values as text. A numeric expression such as
    round(x, 4), a CASE or a division reports plain `numeric` (no scale), so the expected
    0.25 is cast to numeric and stays '0.25' while the actual value prints '0.2500': the
    test fails on PostgreSQL only, although the numbers are equal (DuckDB keeps the scale).

    Here, on PostgreSQL and for expected rows only (dbt builds them in the unit test's own
    context), a value for a plain `numeric` column is cast to double precision instead.
    dbt unions the actual and expected rows, so the column becomes double precision on both
    sides and equal numbers compare equal; unequal numbers still differ. Given rows (inputs)
    keep the column's own type, so the model under test runs on what it would get.
-#}
{% macro postgres__safe_cast(field, type) -%}
    {%- if type | lower == 'numeric' and model is defined and model.resource_type == 'unit_test' -%}
        cast({{ field }} as double precision)
    {%- else -%}
        {{ dbt.default__safe_cast(field, type) }}
    {%- endif -%}
{%- endmacro %}

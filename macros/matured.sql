{#-
    Whether a customer has matured for an N-day window: old enough as of as_of to have had
    the whole window, age >= N days, inclusive (docs/definitions.md#matured). Every rate over
    a window (path_metrics, cohort_routing_report, activation_by_cohort) counts only these.
-#}
{% macro is_matured(days, age_hours='age_hours') -%}
    {{ age_hours }} >= {{ days * 24 }}
{%- endmacro %}

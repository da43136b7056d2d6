{#-
    The priority band of a milestone score (docs/definitions.md#action-priority): the first
    band of var priority_score_bands whose `below` the score is under, else var
    lowest_priority. action_priority (int_customers_scored) and the score bands of
    score_vs_expansion both use it.
-#}
{% macro priority_band(score_expr) -%}
    case
        {%- for band in var('priority_score_bands') %}
        when {{ score_expr }} < {{ band['below'] }} then '{{ band["priority"] }}'
        {%- endfor %}
        else '{{ var("lowest_priority") }}'
    end
{%- endmacro %}

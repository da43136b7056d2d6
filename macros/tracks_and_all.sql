{#-
    The rows of a report's track dimension: one per var `tracks`, then `all` (every track
    together), so a track without customers still has its rows.
-#}
{% macro tracks_and_all() -%}
    {%- for track in var('tracks') %}
    select '{{ track }}' as track
    union all
    {%- endfor %}
    select 'all' as track
{%- endmacro %}

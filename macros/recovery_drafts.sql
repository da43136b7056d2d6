{#-
    Recovery drafts (docs/definitions.md#recovery-drafts): seed recovery_templates holds a
    subject and a body per stall step, with named placeholders in braces. A placeholder whose
    value is null reads var recovery_placeholder_fallbacks (else ''). The data tests in tests/dbt/ fail the
    build when a milestone has no template or a template names another placeholder.
-#}
{% macro recovery_placeholders() -%}
    {{ return(['company_name', 'milestone', 'next_best_action', 'csm_owner', 'days_stalled']) }}
{%- endmacro %}

{#-
    The text `text_expr` with every placeholder replaced by its value: `values` maps each name
    of recovery_placeholders() to a SQL expression (text or number).
-#}
{% macro render_recovery_text(text_expr, values) -%}
    {%- set rendered = namespace(sql=text_expr) -%}
    {%- set fallbacks = var('recovery_placeholder_fallbacks', {}) or {} -%}
    {%- for name in recovery_placeholders() -%}
        {%- set fallback = "'" ~ (fallbacks.get(name, '') | replace("'", "''")) ~ "'" -%}
        {%- set value = 'coalesce(cast(' ~ values[name] ~ ' as ' ~ dbt.type_string() ~ '), ' ~ fallback ~ ')' -%}
        {%- set rendered.sql = 'replace(' ~ rendered.sql ~ ", '{" ~ name ~ "}', " ~ value ~ ')' -%}
    {%- endfor -%}
    {{ rendered.sql }}
{%- endmacro %}

{#- Whole days of a stall of `hours_expr` hours (2 for 48 to 71.99 hours): the days_stalled placeholder. -#}
{% macro days_stalled(hours_expr) -%}
    cast(floor({{ hours_expr }} / 24) as {{ dbt.type_int() }})
{%- endmacro %}

{#- the LIKE patterns: a brace written in SQL would open a Jinja tag -#}
{%- set has_open, has_close = "'%{%'", "'%}%'" %}
{%- set blanks = {} %}
{%- for name in recovery_placeholders() %}
{%- do blanks.update({name: "''"}) %}
{%- endfor %}

-- a recovery template may name only the known placeholders (docs/definitions.md#recovery-drafts):
-- the rows are the templates that still hold a brace once every known placeholder is removed
with

templates as (select * from {{ ref('recovery_templates') }}),

stripped as (
    select
        stall_step,
        subject,
        body,
        {{ render_recovery_text('subject', blanks) }} as subject_left,
        {{ render_recovery_text('body', blanks) }} as body_left
    from templates
),

final as (
    select
        stall_step,
        subject,
        body
    from stripped
    where
        subject_left like {{ has_open }}
        or subject_left like {{ has_close }}
        or body_left like {{ has_open }}
        or body_left like {{ has_close }}
)

select * from final

{#-
    Which row of a per-customer snapshot (accounts, subscriptions) is the current one
    (docs/definitions.md#current-state): rank 1 is the latest updated_at (a null never wins),
    then the latest load; `tie_breakers` (the table's own columns, each with its direction)
    settle what is left, so every engine keeps the same row.
-#}
{% macro current_state_rank(tie_breakers) -%}
    row_number() over (
        partition by customer_id
        order by
            updated_at desc nulls last,
            _loaded_at desc,
            {{ tie_breakers | join(',\n            ') }}
    )
{%- endmacro %}

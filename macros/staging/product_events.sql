{#-
    The rules of raw product events, in one place: which raw rows carry an event_id, how a
    raw copy is read, which copy of a re-sent event_id is kept, which losing copies conflict
    with it, and why a kept copy is unusable. The staging models (base_product__events,
    stg_product__events_unusable, stg_product__events_conflicts) and
    `onboard validate` (validation_event_queries, rendered through dbt by
    onboard/validate/source.py) both call these macros, so a rule changed here changes both.
-#}

{#- The raw row has an event_id, so it can be de-duplicated (null and '' cannot). -#}
{% macro product_event_has_id(event_id_expr) -%}
    {{ event_id_expr }} <> ''
{%- endmacro %}

{#- The raw row has no event_id: it is unusable on its own, reason null_event_id. -#}
{% macro product_event_lacks_id(event_id_expr) -%}
    ({{ event_id_expr }} is null or {{ event_id_expr }} = '')
{%- endmacro %}

{#-
    An id as staging reads it: null when empty, only whitespace (space, tab, line breaks) or
    the text `null` in any case, which exports write for a missing value; any other id
    unchanged, surrounding spaces included (ids are matched byte for byte with the other
    raw tables, which are not trimmed either).
-#}
{% macro product_event_id_text(text_expr) -%}
    case
        when lower(trim(translate({{ text_expr }}, chr(9) || chr(10) || chr(13), '   '))) in ('', 'null')
            then null
        else {{ text_expr }}
    end
{%- endmacro %}

{#-
    One raw copy as staging reads it: empty texts are null, customer_id and user_id null when
    they hold no id (product_event_id_text), the timestamps parsed (null when they do not
    parse). Columns event_id, event_name, customer_id, user_id, occurred_at, received_at,
    properties, read from the raw relation or alias `relation`.
-#}
{% macro product_event_copy_columns(relation) -%}
    {{ relation }}.event_id,
    nullif({{ relation }}.event_name, '') as event_name,
    {{ product_event_id_text(relation ~ '.customer_id') }} as customer_id,
    {{ product_event_id_text(relation ~ '.user_id') }} as user_id,
    {{ try_cast_timestamp(relation ~ '.occurred_at') }} as occurred_at,
    {{ try_cast_timestamp(relation ~ '.received_at') }} as received_at,
    nullif({{ relation }}.properties, '') as properties
{%- endmacro %}

{#-
    The rank of a copy among the copies of its event_id (over product_event_copy_columns);
    rank 1 is the copy kept: the earliest received_at, then the earliest occurred_at, then
    the smallest properties, event_name, customer_id and user_id by their bytes (a total
    order, so every target keeps the same copy). A null never wins a tie.
-#}
{% macro product_event_copy_rank() -%}
    row_number() over (
        partition by event_id
        order by
            received_at asc nulls last,
            occurred_at asc nulls last,
            {{ bytewise('properties') }} asc nulls last,
            {{ bytewise('event_name') }} asc nulls last,
            {{ bytewise('customer_id') }} asc nulls last,
            {{ bytewise('user_id') }} asc nulls last
    )
{%- endmacro %}

{#-
    Which content columns of a copy differ from the kept copy of its event_id (aliases `copy`
    and `kept`, each with product_event_copy_columns): their names in this order, joined by
    `,` — event_name, customer_id, user_id, occurred_at (as an instant), properties (bytewise
    text); a null differs from a value. '' when the copy is an exact re-send: received_at and
    the load are not content, a re-send arrives later. A copy with a differing column is a
    conflicting duplicate (docs/definitions.md#conflicting-duplicates).
-#}
{% macro product_event_differing_columns(copy, kept) -%}
    concat_ws(
        ','
        {%- for column in ['event_name', 'customer_id', 'user_id', 'occurred_at', 'properties'] %},
        case
            when not coalesce(
                {{ copy }}.{{ column }} = {{ kept }}.{{ column }},
                {{ copy }}.{{ column }} is null and {{ kept }}.{{ column }} is null
            )
                then '{{ column }}'
        end
        {%- endfor %}
    )
{%- endmacro %}

{#-
    The conflicting duplicates among ranked copies: every copy that lost the de-duplication
    (copy_number > 1) and differs in content from the kept one (product_event_differing_columns).
    `ranked` is a relation or CTE of copies with product_event_copy_columns, loaded_at and
    copy_number (product_event_copy_rank), holding every copy of each of its event_ids.
    Columns: those of the losing copy, plus differing_columns.
-#}
{% macro product_event_conflicting_copies(ranked) -%}
    select
        conflicting.*
    from (
        select
            losing.*,
            {{ product_event_differing_columns('losing', 'kept') }} as differing_columns
        from {{ ranked }} as losing
        inner join {{ ranked }} as kept
            on losing.event_id = kept.event_id and kept.copy_number = 1
        where losing.copy_number > 1
    ) as conflicting
    where conflicting.differing_columns <> ''
{%- endmacro %}

{#- The properties of a kept copy as a JSON object (absent properties read as {}); null when not one. -#}
{% macro product_event_properties_object(properties_expr='properties') -%}
    {{ json_object_or_null("coalesce(" ~ properties_expr ~ ", '{}')") }}
{%- endmacro %}

{#-
    The earliest plausible occurred_at (var min_occurred_at, a UTC timestamp text): an event
    dated before it comes from a broken clock or a default date (1900-01-01, 1970-01-01).
-#}
{% macro product_event_min_occurred_at() -%}
    {{ try_cast_timestamp("'" ~ var('min_occurred_at') ~ "'") }}
{%- endmacro %}

{#-
    Why a kept copy cannot be used, the first reason that applies; null when it is usable.
    Reads the columns of product_event_copy_columns and `properties_object`
    (product_event_properties_object). A raw row without an event_id is `null_event_id`
    before any of these (product_event_lacks_id).
-#}
{% macro product_event_unusable_reason() -%}
    case
        when customer_id is null then 'null_customer_id'
        when occurred_at is null then 'null_occurred_at'
        when occurred_at < {{ product_event_min_occurred_at() }} then 'implausible_occurred_at'
        when event_name is null or event_name not in ({{ tracking_plan_event_list() }})
            then 'unknown_event_name'
        when properties_object is null then 'invalid_properties'
    end
{%- endmacro %}

{#-
    The two steps every reader of kept copies takes, as two CTEs (`with_properties`, then
    `classified`, which adds unusable_reason): the properties parsed once into
    `properties_object`, then the unusable reason. `kept` names the CTE of kept copies.
-#}
{% macro product_events_classified_ctes(kept) -%}
with_properties as (
    select
        *,
        {{ product_event_properties_object('properties') }} as properties_object
    from {{ kept }}
),

classified as (
    select
        *,
        {{ product_event_unusable_reason() }} as unusable_reason
    from with_properties
)
{%- endmacro %}

{#-
    The raw rows without an event_id (loaded_at from _loaded_at), each an unusable row of
    its own: they cannot be de-duplicated. `relation` is the raw events relation or a CTE of it.
-#}
{% macro product_events_without_id(relation) -%}
    select
        cast(null as {{ dbt.type_string() }}) as event_id,
        nullif(event_name, '') as event_name,
        {{ product_event_id_text('customer_id') }} as customer_id,
        occurred_at,
        nullif(properties, '') as properties,
        'null_event_id' as reason,
        _loaded_at as loaded_at
    from {{ relation }}
    where {{ product_event_lacks_id('event_id') }}
{%- endmacro %}

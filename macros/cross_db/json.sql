{#-
    JSON helpers. Raw properties are text that may be anything; these never raise on bad
    JSON. A "json object" expression is the parsed object, or null when the text is not
    a JSON object.
-#}

{% macro json_object_or_null(text_expr) -%}
    {{ return(adapter.dispatch('json_object_or_null', 'onboarding_paths')(text_expr)) }}
{%- endmacro %}

{% macro default__json_object_or_null(text_expr) -%}
    {{ onboard_udf('try_json_object') }}({{ text_expr }})
{%- endmacro %}

{#- try() as well as the guard: DuckDB may hoist a common subexpression out of a CASE -#}
{% macro duckdb__json_object_or_null(text_expr) -%}
    case
        when json_type(try(cast({{ text_expr }} as json))) = 'OBJECT'
            then try(cast({{ text_expr }} as json))
    end
{%- endmacro %}

{#-
    Spark keeps the object as its text (no JSON type in Spark 3.5): valid when Spark's JSON
    reader takes it as an object and nothing follows the closing brace. Known difference:
    DuckDB also accepts trailing commas ('{"a": 1,}'), which read as invalid here.
-#}
{% macro spark__json_object_or_null(text_expr) -%}
    case
        when
            from_json({{ text_expr }}, 'map<string,string>') is not null
            and rtrim({{ text_expr }}) like '%}'
            then {{ text_expr }}
    end
{%- endmacro %}

{#- The value of key in a json object as text (strings unquoted); null when absent. -#}
{% macro json_text(object_expr, key) -%}
    {{ return(adapter.dispatch('json_text', 'onboarding_paths')(object_expr, key)) }}
{%- endmacro %}

{% macro default__json_text(object_expr, key) -%}
    ({{ object_expr }} ->> '{{ key }}')
{%- endmacro %}

{% macro duckdb__json_text(object_expr, key) -%}
    json_extract_string({{ object_expr }}, '$."{{ key }}"')
{%- endmacro %}

{% macro spark__json_text(object_expr, key) -%}
    get_json_object({{ object_expr }}, '$.{{ key }}')
{%- endmacro %}

{#-
    The JSON type of key in a json object, one of: string, integer, number (not an
    integer), boolean, null, object, array; null when the key is absent.
-#}
{% macro json_kind(object_expr, key) -%}
    {{ return(adapter.dispatch('json_kind', 'onboarding_paths')(object_expr, key)) }}
{%- endmacro %}

{% macro default__json_kind(object_expr, key) -%}
    case jsonb_typeof({{ object_expr }} -> '{{ key }}')
        when 'number' then
            case when ({{ object_expr }} ->> '{{ key }}') ~ '^-?[0-9]+$' then 'integer' else 'number' end
        else jsonb_typeof({{ object_expr }} -> '{{ key }}')
    end
{%- endmacro %}

{% macro duckdb__json_kind(object_expr, key) -%}
    case json_type({{ object_expr }}, '$."{{ key }}"')
        when 'VARCHAR' then 'string'
        when 'UBIGINT' then 'integer'
        when 'BIGINT' then 'integer'
        when 'HUGEINT' then 'integer'
        when 'DOUBLE' then 'number'
        when 'BOOLEAN' then 'boolean'
        when 'NULL' then 'null'
        when 'OBJECT' then 'object'
        when 'ARRAY' then 'array'
    end
{%- endmacro %}

{#-
    Spark: the JSON reader converts a value only to the type its token has, so parsing the
    key as each type in turn tells the kind (integer before number; string is what is left).
    A string "NaN" or "Infinity" converts to a double too, hence the digit check for number.
-#}
{% macro spark__json_kind(object_expr, key) -%}
    {%- set field = "from_json(" ~ object_expr ~ ", 'struct<`" ~ key ~ "`:TYPE>').`" ~ key ~ "`" -%}
    case
        when {{ field | replace('TYPE', 'bigint') }} is not null then 'integer'
        when
            {{ field | replace('TYPE', 'double') }} is not null
            and {{ spark__json_text(object_expr, key) }} rlike '^-?[0-9]'
            then 'number'
        when {{ field | replace('TYPE', 'boolean') }} is not null then 'boolean'
        when {{ field | replace('TYPE', 'map<string,string>') }} is not null then 'object'
        when {{ field | replace('TYPE', 'array<string>') }} is not null then 'array'
        when {{ spark__json_text(object_expr, key) }} is not null then 'string'
    end
{%- endmacro %}

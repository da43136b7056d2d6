{#-
    `ref` and `source`, as dbt's own, except that on DuckDB a relation renders without its
    database: `"main_staging"."stg_x"`, not `"warehouse"."main_staging"."stg_x"`. DuckDB
    names a file's catalog after the file's stem and a view keeps the text of its query, so
    with the catalog in it a copied or renamed warehouse file has views that point at a
    catalog that is not there (docs/definitions.md#warehouse-file-portable). Without it,
    every name resolves in the file the view lives in. Other adapters render as before.
    One exception: in a file named after a schema (`raw.duckdb`), `raw.events` would be
    ambiguous (catalog or schema?), so relations in that one schema keep the database.
-#}
{% macro ref() -%}
    {{ return(relation_in_this_file(builtins.ref(*varargs, **kwargs))) }}
{%- endmacro %}

{% macro source(source_name, table_name) -%}
    {{ return(relation_in_this_file(builtins.source(source_name, table_name))) }}
{%- endmacro %}

{% macro relation_in_this_file(relation) -%}
    {%- if target.type == 'duckdb' and (relation.database or '') | lower != (relation.schema or '') | lower -%}
        {{ return(relation.include(database=false)) }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}

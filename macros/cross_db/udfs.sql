{#-
    Small SQL functions some adapters lack (a safe timestamp cast, a safe JSON parse),
    created by the on-run-start hook in the target schema. DuckDB needs none.
-#}

{% macro onboard_udf(name) -%}
    {{ target.schema }}.onboard_{{ name }}
{%- endmacro %}

{% macro create_udfs() -%}
    {{ return(adapter.dispatch('create_udfs', 'onboarding_paths')()) }}
{%- endmacro %}

{% macro default__create_udfs() -%}
    select 1
{%- endmacro %}

{% macro postgres__create_udfs() -%}
    create schema if not exists {{ target.schema }};

    {#-
        A text as a UTC timestamp, accepting what DuckDB's `try_cast(text as timestamptz)`
        accepts and giving the same instant, so both targets set the same rows aside.
        PostgreSQL's own input parser is far more lenient ('yesterday', 'now', 'March 1
        2026', '20260301', '03/01/2026', lower-case 't'/'z', leap second :60, ...) and
        rounds fractions that DuckDB truncates, so the text is parsed here instead:
          [spaces] date [(T | spaces) time [zone]] [spaces]
          date  year (1-6 digits), month, day separated by the same '-', '/', '\' or space
          time  h:m, or h:m:s[.fraction] (fraction truncated to microseconds)
          zone  only after h:m:s: Z, +hh, +hhmm, +hh:mm, +hh:mm:ss (any hh/mm value, as
                DuckDB), or one space and UTC, GMT or an IANA Area/City name
        plus the special values epoch, infinity, inf, -infinity, -inf.
        Known differences (documented in docs): DuckDB also reads time-zone abbreviations
        such as PST or CET (as ICU zones) and negative or BC years; here they read as null.
    -#}
    create or replace function {{ onboard_udf('try_timestamp') }}(value text)
    returns timestamp
    language plpgsql immutable parallel safe
    set timezone = 'UTC'
    as $$
    declare
        parts text[];
        year_number integer;
        hour_number integer;
        minute_number integer;
        second_number integer;
        micros bigint;
        zone text;
        zone_seconds integer;
        local_time timestamp;
    begin
        if value is null then
            return null;
        end if;
        case lower(btrim(value, E' \t\n\r\f\v'))
            when 'epoch' then return timestamp 'epoch';
            when 'infinity', 'inf' then return timestamp 'infinity';
            when '-infinity', '-inf' then return timestamp '-infinity';
            else null;
        end case;
        parts := regexp_match(
            value,
            '^\s*([0-9]{1,6})([-/\\ ])([0-9]{1,2})\2([0-9]{1,2})'
            || '(?:(?:T\s*|\s+)([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2})(?:\.([0-9]*))?)?'
            || '(Z|[-+][0-9]{2}(?:[0-9]{2}|:[0-9]{2}(?::[0-9]{2})?)?| [A-Za-z][A-Za-z0-9_/+-]*)?)?\s*$'
        );
        if parts is null then
            return null;
        end if;
        zone := parts[9];
        if zone is not null and parts[7] is null then
            return null;  -- a zone needs seconds
        end if;
        year_number := parts[1]::integer;
        hour_number := coalesce(parts[5], '0')::integer;
        minute_number := coalesce(parts[6], '0')::integer;
        second_number := coalesce(parts[7], '0')::integer;
        micros := rpad(left(coalesce(parts[8], ''), 6), 6, '0')::bigint;
        if minute_number > 59 or second_number > 59 then
            return null;
        end if;
        if hour_number > 24 or (hour_number = 24 and (minute_number + second_number + micros) > 0) then
            return null;
        end if;
        local_time := make_timestamp(
            case when year_number = 0 then -1 else year_number end,  -- year 0 is 1 BC
            parts[3]::integer, parts[4]::integer, hour_number, minute_number, second_number
        ) + micros * interval '1 microsecond';
        if zone is null or zone = 'Z' then
            return local_time;
        end if;
        if zone ~ '^[-+]' then
            zone_seconds := substr(zone, 2, 2)::integer * 3600
                + coalesce(nullif(substr(replace(zone, ':', ''), 4, 2), ''), '0')::integer * 60
                + coalesce(nullif(substr(replace(zone, ':', ''), 6, 2), ''), '0')::integer;
            if left(zone, 1) = '-' then
                zone_seconds := -zone_seconds;
            end if;
            return local_time - zone_seconds * interval '1 second';
        end if;
        zone := btrim(zone);
        if upper(zone) in ('UTC', 'GMT') then
            return local_time;
        end if;
        if zone !~ '^[A-Za-z]+(/[A-Za-z0-9_+-]+)+$' then
            return null;  -- abbreviations: PostgreSQL and ICU disagree on their meaning
        end if;
        return (local_time at time zone zone) at time zone 'UTC';
    exception when others then
        return null;
    end;
    $$;

    create or replace function {{ onboard_udf('try_json_object') }}(value text)
    returns jsonb
    language plpgsql immutable
    as $$
    declare
        parsed jsonb;
    begin
        parsed := value::jsonb;
        if jsonb_typeof(parsed) = 'object' then
            return parsed;
        end if;
        return null;
    exception when others then
        return null;
    end;
    $$;
{%- endmacro %}

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
        A text as a UTC timestamp: what DuckDB's `try_cast(text as timestamptz)` reads, read
        as the same instant, so both targets set the same rows aside. PostgreSQL's own
        parser is far more lenient ('yesterday', 'now', 'March 1 2026', '20260301',
        '03/01/2026', lower-case 't' and 'z', leap second :60, ...) and rounds fractions that
        DuckDB truncates, so it only reads the usual ISO-8601 forms (fast paths, where both
        agree) and everything else is parsed here, following DuckDB's grammar:
          [white space] date [(T | white space) time [zone]] [spaces]
          date  year (1-6 digits, optional minus: astronomical, 0 = 1 BC), month, day,
                separated twice by the same '-', '/', '\' or space
          time  h:m, or h:m:s[.fraction] (fraction truncated to microseconds)
          zone  only after h:m:s: Z, +hh, +hhmm, +hh:mm or +hh:mm:ss (any hh and mm), or
                one space and UTC, GMT or an IANA Area/City name (any case)
        plus epoch, infinity and -infinity (any case, white space around) and inf, -inf.
        Known difference: DuckDB also reads time-zone abbreviations such as PST, CET or IST
        (as ICU zones, with daylight saving); PostgreSQL gives them other meanings, so here
        they read as null.
        Independent of the session's TimeZone, DateStyle and timezone_abbreviations.
    -#}
    create or replace function {{ onboard_udf('try_timestamp') }}(value text)
    returns timestamp
    language plpgsql immutable parallel safe
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
        if value ~ '^(?!0000)[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-2][0-9]:[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?$' then
            return value::timestamp;
        end if;
        if value ~ '^(?!0000)[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-2][0-9]:[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[-+](0[0-9]|1[0-5])(:?[0-5][0-9])?)$' then
            return value::timestamptz at time zone 'UTC';
        end if;
        case lower(btrim(value, E' \t\n\r\f\v'))
            when 'epoch' then return timestamp 'epoch';
            when 'infinity' then return timestamp 'infinity';
            when '-infinity' then return timestamp '-infinity';
            else null;
        end case;
        case lower(ltrim(value, E' \t\n\r\f\v'))
            when 'inf' then return timestamp 'infinity';
            when '-inf' then return timestamp '-infinity';
            else null;
        end case;
        parts := regexp_match(
            value,
            '^\s*(-?[0-9]{1,6})([-/\\ ])([0-9]{1,2})\2([0-9]{1,2})'
            || '(?:(?:T\s*|\s+)([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2})(?:\.([0-9]*))?)?'
            || '(Z|[-+][0-9]{2}(?:[0-9]{2}|:[0-9]{2}(?::[0-9]{2})?)?| [A-Za-z][A-Za-z0-9_/+-]*)?)?\s*$'
        );
        if parts is null then
            return null;
        end if;
        zone := parts[9];
        -- as DuckDB: a zone or trailing white space needs the seconds, and only a zone may
        -- be followed by white space other than plain spaces
        if parts[7] is null and (zone is not null or value ~ '\s$') then
            return null;
        end if;
        if zone is null and value ~ '[\t\n\r\f\v][ \t\n\r\f\v]*$' then
            return null;
        end if;
        year_number := parts[1]::integer;
        hour_number := coalesce(parts[5], '0')::integer;
        minute_number := coalesce(parts[6], '0')::integer;
        second_number := coalesce(parts[7], '0')::integer;
        micros := rpad(left(coalesce(parts[8], ''), 6), 6, '0')::bigint;
        if minute_number > 59 or second_number > 59 then
            return null;
        end if;
        if hour_number > 24 or (hour_number = 24 and minute_number + second_number + micros > 0) then
            return null;
        end if;
        local_time := make_timestamp(
            -- DuckDB counts years astronomically (0 is 1 BC); PostgreSQL has no year 0
            case when year_number <= 0 then year_number - 1 else year_number end,
            parts[3]::integer, parts[4]::integer, hour_number, minute_number, second_number
        ) + micros * interval '1 microsecond';
        if zone is null or zone = 'Z' then
            return local_time;
        end if;
        if zone ~ '^[-+]' then
            zone := replace(zone, ':', '');
            zone_seconds := substr(zone, 2, 2)::integer * 3600
                + coalesce(nullif(substr(zone, 4, 2), ''), '0')::integer * 60
                + coalesce(nullif(substr(zone, 6, 2), ''), '0')::integer;
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
            return null;  -- an abbreviation: PostgreSQL and ICU disagree on its meaning
        end if;
        return (local_time at time zone zone) at time zone 'UTC';
    exception when others then
        return null;  -- an impossible date (2026-02-30), an unknown zone, out of range
    end;
    $$;

    {#-
        A text as a JSON object (jsonb), or null when it is not one, as DuckDB's reader sees
        it: besides strict JSON, DuckDB accepts trailing commas ('{"a": 1,}', '[1,]') and
        NaN, Inf and Infinity (any case, optional minus) as numbers. Texts that fail the
        strict parse are retried with those rewritten outside strings (trailing commas
        dropped, NaN and Infinity made strings, which every typed property reads as DuckDB
        reads the number). Known differences: with a duplicated key DuckDB reads the first
        value and PostgreSQL the last; '\u0000' in a string is valid in DuckDB and not in
        PostgreSQL; numbers keep their written form in PostgreSQL ('1.50'; '1e2' reads as
        the integer 100) where DuckDB reads a double ('1.5'; '100.0', not an integer).
    -#}
    create or replace function {{ onboard_udf('try_json_object') }}(value text)
    returns jsonb
    language plpgsql immutable parallel safe
    as $$
    declare
        parsed jsonb;
        token text;
        lenient text := '';
    begin
        begin
            parsed := value::jsonb;
        exception when others then
            for token in
                select piece[1]
                from regexp_matches(
                    -- keep strings and a comma right after '{', '[' or ','; drop a comma before '}' or ']'
                    regexp_replace(value, '("(?:[^"\\]|\\.)*")|([[{,]\s*,)|,(\s*[]}])', '\1\2\3', 'g'),
                    '("(?:[^"\\]|\\.)*"|[^"]+|")',
                    'g'
                ) as piece
            loop
                if left(token, 1) <> '"' then
                    token := regexp_replace(
                        token, '(^|[^A-Za-z0-9_.])(-?(?:nan|infinity|inf))(?![A-Za-z0-9_])', '\1"\2"', 'gi'
                    );
                end if;
                lenient := lenient || token;
            end loop;
            begin
                parsed := lenient::jsonb;
            exception when others then
                return null;
            end;
        end;
        if jsonb_typeof(parsed) = 'object' then
            return parsed;
        end if;
        return null;
    end;
    $$;
{%- endmacro %}

{#- `dbt run-operation install_udfs`: create the functions without a build (onboard validate). -#}
{% macro install_udfs() -%}
    {% do run_query(create_udfs()) %}
{%- endmacro %}

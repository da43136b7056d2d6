{#-
    Experiments (docs/definitions.md#experiments-config): var `experiments`, checked here for
    the SQL (onboard/core/project_config.py `read_experiments` checks the same rules for Python).
-#}

{#- A text of exactly 8 lower-case hex digits as the integer it spells (0 .. 2^32 - 1). -#}
{% macro hex_to_int(hex_expr) -%}
    {{ return(adapter.dispatch('hex_to_int', 'onboarding_paths')(hex_expr)) }}
{%- endmacro %}

{% macro default__hex_to_int(hex_expr) -%}
    {{ exceptions.raise_compiler_error(
        "hex_to_int: no implementation for adapter " ~ target.type ~ " (add " ~ target.type ~ "__hex_to_int)"
    ) }}
{%- endmacro %}

{% macro duckdb__hex_to_int(hex_expr) -%}
    cast(('0x' || {{ hex_expr }}) as bigint)
{%- endmacro %}

{% macro postgres__hex_to_int(hex_expr) -%}
    cast(cast(('x' || {{ hex_expr }}) as bit(32)) as bigint)
{%- endmacro %}

{% macro spark__hex_to_int(hex_expr) -%}
    cast(conv({{ hex_expr }}, 16, 10) as bigint)
{%- endmacro %}

{#-
    The assignment hash of an experiment and a customer (docs/definitions.md#experiment-assignment):
    h = int(first 8 hex digits of md5(name || ':' || customer_id), 16); u = h / 2^32.
-#}
{% macro experiment_hash(experiment_name, customer_id_expr) -%}
    {{ hex_to_int("substr(" ~ dbt.hash(dbt.concat(["'" ~ experiment_name ~ ":'", customer_id_expr])) ~ ", 1, 8)") }}
{%- endmacro %}

{#-
    Each arm's exclusive upper bound on h: u < cumulative weight exactly when
    h < ceil(cumulative weight * 2^32), an integer, so no adapter compares floats. The last
    arm takes every h above the previous bound (the weights' sum may miss 1 by 1e-9).
-#}
{% macro experiment_arm_bounds(experiment) -%}
    {%- set bounds = [] -%}
    {%- set state = {'cumulative': 0.0} -%}
    {%- for arm in experiment['arms'] -%}
        {%- do state.update({'cumulative': state['cumulative'] + arm['weight']}) -%}
        {%- set scaled = state['cumulative'] * 4294967296 -%}
        {%- set bound = scaled | int -%}
        {%- do bounds.append(bound + 1 if bound < scaled else bound) -%}
    {%- endfor -%}
    {{ return(bounds) }}
{%- endmacro %}

{#- A starts_at / ends_at as a UTC timestamp literal. -#}
{% macro experiment_time(value) -%}
    cast('{{ value }}' as timestamp)
{%- endmacro %}

{#- A value as the Python reader shows what it got (repr: texts quoted). -#}
{% macro experiment_got(value) -%}
    {{ "'" ~ value ~ "'" if value is string else value }}
{%- endmacro %}

{#-
    Var `experiments`, checked: one line naming the experiment and the key, as
    read_experiments words it (docs/definitions.md#experiments-config).
-#}
{% macro experiments() -%}
    {%- set entries = var('experiments', []) -%}
    {%- if entries is none -%}{%- set entries = [] -%}{%- endif -%}
    {%- if entries is string or entries is mapping or entries is not iterable -%}
        {{ exceptions.raise_compiler_error("vars.experiments: expected a list of experiments, got " ~ experiment_got(entries)) }}
    {%- endif -%}
    {%- set tiers = var('plan_tiers') -%}
    {%- set time_pattern = '^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?)?$' -%}
    {%- set name_pattern = '^[a-z][a-z0-9_]*$' -%}
    {%- set keys = ['name', 'starts_at', 'ends_at', 'eligible', 'control', 'arms', 'min_customers_per_arm'] -%}
    {%- set seen = [] -%}
    {%- set checked = [] -%}
    {%- for entry in entries -%}
        {%- if entry is not mapping -%}
            {{ exceptions.raise_compiler_error("vars.experiments." ~ loop.index0 ~ ": expected an experiment (a mapping), got " ~ experiment_got(entry)) }}
        {%- endif -%}
        {%- set label = entry.get('name') if entry.get('name') is string else loop.index0 -%}
        {%- set where = "vars.experiments." ~ label ~ "." -%}
        {%- for key in entry if key not in keys -%}
            {{ exceptions.raise_compiler_error(where ~ key ~ ": expected no such key (unknown)") }}
        {%- endfor -%}
        {%- for key in ['name', 'starts_at', 'arms', 'control'] if key not in entry -%}
            {{ exceptions.raise_compiler_error(where ~ key ~ ": expected a value (the key is missing)") }}
        {%- endfor -%}
        {%- if entry['name'] is not string or not modules.re.match(name_pattern, entry['name']) -%}
            {{ exceptions.raise_compiler_error(where ~ "name: expected a name of lower-case letters, digits and _ starting with a letter, got " ~ experiment_got(entry['name'])) }}
        {%- endif -%}
        {%- if entry['name'] in seen -%}
            {{ exceptions.raise_compiler_error(where ~ "name: expected a unique name, got '" ~ entry['name'] ~ "' twice") }}
        {%- endif -%}
        {%- do seen.append(entry['name']) -%}
        {%- for key in ['starts_at', 'ends_at'] -%}
            {%- set value = entry.get(key) -%}
            {%- if (key == 'starts_at' or value is not none) and not modules.re.match(time_pattern, value | string) -%}
                {{ exceptions.raise_compiler_error(where ~ key ~ ": expected a UTC date or date-time like '2026-09-01' or '2026-09-01 08:00:00', got " ~ experiment_got(value)) }}
            {%- endif -%}
        {%- endfor -%}
        {%- set starts_at = modules.datetime.datetime.fromisoformat(entry['starts_at'] | string) -%}
        {%- set ends_at = none if entry.get('ends_at') is none else modules.datetime.datetime.fromisoformat(entry['ends_at'] | string) -%}
        {%- if ends_at is not none and ends_at <= starts_at -%}
            {{ exceptions.raise_compiler_error(where ~ "ends_at: expected a time after starts_at (" ~ starts_at ~ "), got " ~ ends_at) }}
        {%- endif -%}
        {%- set eligible = entry.get('eligible') or {} -%}
        {%- if eligible is not mapping -%}
            {{ exceptions.raise_compiler_error(where ~ "eligible: expected a mapping of plan_tiers and signup_sources, got " ~ experiment_got(eligible)) }}
        {%- endif -%}
        {%- for key in eligible if key not in ['plan_tiers', 'signup_sources'] -%}
            {{ exceptions.raise_compiler_error(where ~ "eligible." ~ key ~ ": expected no such key (unknown)") }}
        {%- endfor -%}
        {%- for key in ['plan_tiers', 'signup_sources'] -%}
            {%- set values = eligible.get(key) -%}
            {%- if values is not none and (values is string or values is mapping or values is not iterable or values | length == 0) -%}
                {{ exceptions.raise_compiler_error(where ~ "eligible." ~ key ~ ": expected a non-empty list, got " ~ experiment_got(values)) }}
            {%- endif -%}
            {%- for value in values or [] -%}
                {%- if value is not string or value == '' -%}
                    {{ exceptions.raise_compiler_error(where ~ "eligible." ~ key ~ "." ~ loop.index0 ~ ": expected a non-empty text, got " ~ experiment_got(value)) }}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- for tier in eligible.get('plan_tiers') or [] if tier not in tiers -%}
            {{ exceptions.raise_compiler_error(where ~ "eligible.plan_tiers: expected tiers of var plan_tiers " ~ tiers ~ ", got '" ~ tier ~ "'") }}
        {%- endfor -%}
        {%- set arms = entry['arms'] -%}
        {%- if arms is string or arms is mapping or arms is not iterable or arms | length == 0 -%}
            {{ exceptions.raise_compiler_error(where ~ "arms: expected a non-empty list, got " ~ experiment_got(arms)) }}
        {%- endif -%}
        {%- set arm_names = [] -%}
        {%- set holdouts = [] -%}
        {%- set state = {'total': 0.0} -%}
        {%- for arm in arms -%}
            {%- set at = where ~ "arms." ~ loop.index0 ~ "." -%}
            {%- if arm is not mapping -%}
                {{ exceptions.raise_compiler_error(where ~ "arms." ~ loop.index0 ~ ": expected an arm (a mapping), got " ~ experiment_got(arm)) }}
            {%- endif -%}
            {%- for key in arm if key not in ['name', 'weight', 'holdout'] -%}
                {{ exceptions.raise_compiler_error(at ~ key ~ ": expected no such key (unknown)") }}
            {%- endfor -%}
            {%- if arm.get('name') is not string or not modules.re.match(name_pattern, arm.get('name')) -%}
                {{ exceptions.raise_compiler_error(at ~ "name: expected a name of lower-case letters, digits and _ starting with a letter, got " ~ experiment_got(arm.get('name'))) }}
            {%- endif -%}
            {%- set weight = arm.get('weight') -%}
            {%- if weight is not number or weight is sameas true or weight is sameas false or weight <= 0 or weight > 1 -%}
                {{ exceptions.raise_compiler_error(at ~ "weight: expected a number > 0 and <= 1, got " ~ experiment_got(weight)) }}
            {%- endif -%}
            {%- if arm.get('holdout', false) is not sameas true and arm.get('holdout', false) is not sameas false -%}
                {{ exceptions.raise_compiler_error(at ~ "holdout: expected true or false, got " ~ experiment_got(arm.get('holdout'))) }}
            {%- endif -%}
            {%- if arm['name'] in arm_names -%}
                {{ exceptions.raise_compiler_error(where ~ "arms: expected unique arm names, got '" ~ arm['name'] ~ "' twice") }}
            {%- endif -%}
            {%- do arm_names.append(arm['name']) -%}
            {%- if arm.get('holdout', false) -%}{%- do holdouts.append(arm['name']) -%}{%- endif -%}
            {%- do state.update({'total': state['total'] + weight}) -%}
        {%- endfor -%}
        {%- if (state['total'] - 1) | abs > 1e-9 -%}
            {{ exceptions.raise_compiler_error(where ~ "arms: expected weights summing to 1, got " ~ ('%.12g' | format(state['total']))) }}
        {%- endif -%}
        {%- if holdouts | length > 1 -%}
            {{ exceptions.raise_compiler_error(where ~ "arms: expected at most one arm with holdout: true, got " ~ holdouts) }}
        {%- endif -%}
        {%- if holdouts | length == arm_names | length -%}
            {{ exceptions.raise_compiler_error(where ~ "arms: expected at least one arm that is not a holdout, got only holdout arms") }}
        {%- endif -%}
        {%- if entry['control'] not in arm_names -%}
            {{ exceptions.raise_compiler_error(where ~ "control: expected one of the arms " ~ arm_names ~ ", got " ~ experiment_got(entry['control'])) }}
        {%- endif -%}
        {%- set minimum = entry.get('min_customers_per_arm', 100) -%}
        {%- if minimum is not integer or minimum is sameas true or minimum is sameas false or minimum < 1 -%}
            {{ exceptions.raise_compiler_error(where ~ "min_customers_per_arm: expected an integer >= 1, got " ~ experiment_got(minimum)) }}
        {%- endif -%}
        {%- do checked.append({
            'name': entry['name'],
            'starts_at': entry['starts_at'] | string,
            'ends_at': none if entry.get('ends_at') is none else entry['ends_at'] | string,
            'plan_tiers': eligible.get('plan_tiers'),
            'signup_sources': eligible.get('signup_sources'),
            'arms': arms,
        }) -%}
    {%- endfor -%}
    {{ return(checked) }}
{%- endmacro %}

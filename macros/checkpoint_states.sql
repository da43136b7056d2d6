{#-
    checkpoint_state's values in lifecycle order (var checkpoint_states), the recovery state
    numbered 1 .. var max_recovery_cycles: what int_customers_checkpointed can write, for the
    models that count them and the marts' accepted_values tests (sync/enumerations.py reads the same vars).
-#}
{% macro checkpoint_states() %}
    {%- set onboarding, activated, recovery, win_back, exited = var('checkpoint_states') %}
    {%- set states = [onboarding, activated] %}
    {%- for cycle in range(1, var('max_recovery_cycles') + 1) %}
        {%- do states.append(recovery ~ '_' ~ cycle) %}
    {%- endfor %}
    {%- do states.extend([win_back, exited]) %}
    {{- return(states) }}
{% endmacro %}

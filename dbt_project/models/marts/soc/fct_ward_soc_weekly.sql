{#- Ward x ISO week (Monday start) x SOC category, the early-warning input: the macro
    ward_soc_periods (macros/soc.sql) at the week grain. -#}
{{ vrdp.ward_soc_periods('week') }}

{#- Ward x month x SOC category: the macro ward_soc_periods (macros/soc.sql) at the
    month grain, zeros kept, rates per 1,000 and the trend. -#}
{{ vrdp.ward_soc_periods('month') }}

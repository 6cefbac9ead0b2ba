"""Pure support logic: business time, SLA clocks, case workflow, attachment sniffing, local hours."""

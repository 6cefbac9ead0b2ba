"""Identity's pure rules: password policy, rights, throttling, codes; no I/O."""

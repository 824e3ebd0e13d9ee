"""People and organisations: one person behind many e-mails and accounts, bots apart, dated affiliations.

`rules` holds the pure rules (no database); `resolve` applies them with set-based SQL; `attribution` is the
selectable metrics count people and organisations through; `corrections` records administrators' corrections.
"""

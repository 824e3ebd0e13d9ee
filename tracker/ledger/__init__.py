"""The OpenHarmony certificate award ledger (policy item 10): certificates in, awards out, under config/awards.yaml.

`schema` (the rule set's shape, light: no database), pure rules: `uscc` (统一社会信用代码), `versions`, `columns`
(cell parsers), `rules` (eligibility), `allocation`. Database work, each function taking the acting user:
`importer`, `certificates`, `awards`, `export`, `my_awards` (an enterprise's own view, for 我的奖励). Import from
the module you need: this package imports nothing, so reading the schema does not load the database layer.
"""

"""Plain domain rules and data: no Bot Framework, no database sessions; imports nothing of ours but domain/.

- `records`: the frozen records every layer shares (repositories return them, cards show them), and the
  checked forms a stored request or incident extends (`RequestForm`, `IncidentForm`).
- `forms`: reading a card form's values.
- `tools`, `approvals`, `incidents`, `acknowledgements`: the rules, each raising refusals in plain words.
- `policy_text`, `policy_parse`, `policy_search`: reading a policy document and searching it.
- `redact`: keeping personal data out of what is stored.
- `data/`: the example policy, tool register and vocabulary.
"""

from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
EXAMPLE_POLICY_PATH = DATA_DIR / "example-policy.md"
EXAMPLE_TOOLS_PATH = DATA_DIR / "example-tools.yaml"

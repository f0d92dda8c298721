"""Plain domain rules and data: no Bot Framework, no database sessions."""

from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
EXAMPLE_POLICY_PATH = DATA_DIR / "example-policy.md"
EXAMPLE_TOOLS_PATH = DATA_DIR / "example-tools.yaml"

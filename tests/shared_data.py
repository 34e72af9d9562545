"""Where the tests find the public corpus and the lecture notes (copies kept in tests/data)."""
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
CORPUS = DATA / "corpus" / "public_cases.py"
HARNESS = DATA / "corpus" / "harness.py"
NOTES = DATA / "notes"

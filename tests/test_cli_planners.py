"""Planners for CLI tests, importable by spec."""

from planners.testing import ScriptedPlanner

exploding = ScriptedPlanner([{"steps": [{"id": "a", "tool": "emit"},
                                        {"id": "b", "tool": "explode", "inputs": {"text": "a.text"}}]}], replans=[])

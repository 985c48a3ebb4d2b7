"""The verdict on a quote: which delivery mode to use, and why, with its break-even.

With a deadline the cheapest mode that meets it; with a value of time the lowest
money-plus-waiting cost; otherwise the cheapest, with its break-even. Work nobody watches
takes the whole answer at once; someone at a screen gets a stream. When the provider has no
speed figures, only money is weighed, and the verdict says so.
"""

from __future__ import annotations

from decimal import Decimal
from operator import attrgetter
from typing import TYPE_CHECKING

from pydantic import BaseModel

from costcalc.billing import ZERO
from costcalc.delivery import HOUR, ModeQuote, duration
from costcalc.money import MoneyOut, per_hour, usd
from costcalc.results import RESULT_CONFIG, adopt, construct
from costcalc.workload import DeliveryMode

if TYPE_CHECKING:
    from costcalc.calculator import Quote


UNWATCHED = ("cron", "batch-job", "webhook", "api")
"""Sources of work nobody watches as it arrives."""
WAIT = {"worst": attrgetter("worst_wait_s"), "typical": attrgetter("wait_s")}
"""A timed mode's wait on a ``batch_wait`` basis (``ModeQuote.basis_wait``)."""


class Recommendation(BaseModel):
    model_config = RESULT_CONFIG
    mode: DeliveryMode | None
    """The mode to use (None when no mode is available)."""
    reason: str
    """The verdict in words."""
    break_even_usd_per_hour: MoneyOut | None = None
    """Saving of the cheapest slower mode against the baseline per extra hour of waiting."""
    break_even_mode: DeliveryMode | None = None
    """The mode ``break_even_usd_per_hour`` is about."""
    meets_deadline: bool | None = None
    """Whether the recommended mode finishes within the deadline (None: no deadline)."""


def recommend(q: Quote) -> Recommendation:
    """The verdict: with a deadline the cheapest mode that meets it; with a value of time the
    lowest money-plus-waiting cost; otherwise the cheapest, with its break-even."""
    available = q.available
    if not available:
        return construct(
            Recommendation, {"mode": None, "reason": "no delivery mode is available for this model"}
        )
    for m in available:
        if m.wait_s is None:
            return _untimed(q, available)
    basis = q.batch_wait
    base = q.mode(q.baseline)
    assert base.cost is not None
    slower = [
        m
        for m in available
        if m.savings_per_hour_waited is not None and m.savings is not None and m.savings > 0
    ]
    be_mode = min(slower, key=lambda m: m.cost or Decimal(0)) if slower else None
    be_value = be_mode.savings_per_hour_waited if be_mode else None
    be_name = be_mode.mode if be_mode else None

    def verdict(mode: DeliveryMode, reason: str) -> Recommendation:
        chosen = q.mode(mode)
        # a mode that saves at least as much without more waiting leaves no trade-off to price
        no_trade_off = (
            be_mode is not None
            and chosen.cost is not None
            and chosen.cost <= (be_mode.cost or Decimal(0))
            and chosen.savings_per_hour_waited is None
        )
        value: Decimal | None
        name: DeliveryMode | None
        if chosen.savings_per_hour_waited is not None and (chosen.savings or 0) > 0:
            # the choice itself trades money for waiting: its own break-even, as the reason says
            value, name = chosen.savings_per_hour_waited, chosen.mode
        else:
            value, name = (None, None) if no_trade_off else (be_value, be_name)
        meets = chosen.basis_wait(basis) <= q.deadline_s if q.deadline_s is not None else None
        return adopt(
            Recommendation,
            {
                "mode": mode,
                "reason": reason,
                "break_even_usd_per_hour": value,
                "break_even_mode": name,
                "meets_deadline": meets,
            },
        )

    if q.source == "web-ui":
        interactive = [m for m in available if m.mode != "batch"]
        if interactive:
            return verdict(*_someone_watching(q, interactive))
    candidates = available
    lead, sep = "", ":"
    if q.deadline_s is not None:
        meets = [m for m in available if m.basis_wait(basis) <= q.deadline_s]
        if meets:
            candidates = meets
            missed = [m.mode for m in available if m not in meets]
            lead = f"within the {duration(q.deadline_s)} deadline"
            if missed:
                lead += f" ({', '.join(missed)} may take longer)"
        elif q.value_of_time is None:
            return verdict(*_missed_deadline(q, q.deadline_s))
        else:
            # every mode is late: the money-plus-waiting comparison below still ranks them
            lead, sep = f"no mode finishes within the {duration(q.deadline_s)} deadline", ";"
    if q.value_of_time is not None:
        vot = q.value_of_time

        def all_told(m: ModeQuote) -> Decimal:
            assert m.cost is not None
            return m.cost + vot * m.basis_wait(basis) / HOUR

        best = min(candidates, key=lambda m: (all_told(m), m.basis_wait(basis), _background(q, m)))
        waited = duration(best.basis_wait(basis))
        reason = (
            f"with an hour of waiting worth {usd(vot)}, {best.mode} costs least all told: "
            f"{usd(best.cost or Decimal(0))} + {waited} of waiting = {usd(all_told(best))}"
        )
        # set against a mode that differs in money or wait (stream and request often tie)
        others = [
            m
            for m in candidates
            if (m.cost, m.basis_wait(basis)) != (best.cost, best.basis_wait(basis))
        ]
        cheaper = [m for m in others if (m.cost or 0) < (best.cost or 0)]
        if cheaper or others:
            # set against the cheaper mode it beat when there is one: that is the trade-off
            runner = (
                min(cheaper, key=lambda m: m.cost or 0) if cheaper else min(others, key=all_told)
            )
            waited = duration(runner.basis_wait(basis))
            reason += (
                f", against {usd(runner.cost or Decimal(0))} + {waited} = "
                f"{usd(all_told(runner))} for {runner.mode}"
            )
        if lead:
            reason = f"{lead}{sep} {reason}"
        return verdict(best.mode, reason)
    wait, unwatched = WAIT[basis], q.source in UNWATCHED
    best = min(candidates, key=lambda m: (m.cost, wait(m), unwatched and m.mode == "stream"))
    reason = _cheapest_reason(q, best, base)
    if lead:
        reason = f"{lead}, {reason}"
    return verdict(best.mode, reason)


def _untimed(q: Quote, available: list[ModeQuote]) -> Recommendation:
    """The verdict when how long the modes take is not known (no speed or rate-limit figures
    for the provider): the cheapest, and the deadline and value of time left unjudged."""
    # min(available, key=(cost, _background)) without a call per mode: most catalogue
    # models have no speed figures, so this is their every quote's verdict
    unwatched = q.source in UNWATCHED
    best = available[0]
    least = best.cost or ZERO
    for m in available:  # (the first against itself changes nothing)
        cost = m.cost or ZERO
        if cost < least or (
            cost == least and best.mode == "stream" and unwatched and m.mode != "stream"
        ):
            best, least = m, cost
    judged = "the deadline is not judged" if q.deadline_s is not None else "no wait is weighed"
    reason = (
        f"{best.mode} costs least ({usd(least)}); how long each mode takes is not known for "
        f"{q.provider} (no speed or rate-limit figures), so {judged}"
    )
    return adopt(
        Recommendation,
        {
            "mode": best.mode,
            "reason": reason,
            "break_even_usd_per_hour": None,
            "break_even_mode": None,
            "meets_deadline": None,
        },
    )


def _background(q: Quote, m: ModeQuote) -> int:
    """Tie-break between equal modes: work nobody watches takes the whole answer at once
    (request), not a stream; otherwise the stream's earlier first token wins."""
    return int(m.mode == "stream" and q.source in UNWATCHED)


def _someone_watching(q: Quote, interactive: list[ModeQuote]) -> tuple[DeliveryMode, str]:
    """Requests from a web UI have a person at the screen: stream, as the default routing
    policy says (or, without it, the cheapest mode that answers while they wait), whatever
    batch would save; the saving is still named."""
    if any(m.mode == "stream" for m in interactive):
        chosen = q.mode("stream")
        text = "someone is watching (source web-ui): stream shows the answer as it is written"
    else:
        chosen = min(interactive, key=lambda m: (m.cost, m.basis_wait(q.batch_wait)))
        text = (
            f"someone is watching (source web-ui): {chosen.mode} is the cheapest mode that "
            "answers while they wait"
        )
    text += f" ({usd(chosen.cost or Decimal(0))})"
    cheapest = q.cheapest
    if chosen.cost is not None and cheapest.cost is not None and cheapest.cost < chosen.cost:
        up_to = "up to " if q.batch_wait == "worst" and cheapest.mode == "batch" else ""
        text += (
            f"; {cheapest.mode} would save {usd(chosen.cost - cheapest.cost)} but takes "
            f"{up_to}{duration(cheapest.basis_wait(q.batch_wait))}"
        )
    return chosen.mode, text


def _missed_deadline(q: Quote, deadline_s: Decimal) -> tuple[DeliveryMode, str]:
    """No mode meets the deadline: the cheapest of the modes that finish first."""
    basis = q.batch_wait
    first = q.fastest
    wait = first.basis_wait(basis)
    tied = [m.mode for m in q.available if m.basis_wait(basis) == wait]
    text = f"no mode finishes within the {duration(deadline_s)} deadline; "
    if len(tied) == 1:
        text += f"the fastest is {first.mode} ({duration(wait)}, {usd(first.cost or Decimal(0))})"
    else:
        text += (
            f"{', '.join(tied)} finish first ({duration(wait)}); {first.mode} is the cheapest "
            f"of them ({usd(first.cost or Decimal(0))})"
        )
    return first.mode, text


def _cheapest_reason(q: Quote, best: ModeQuote, base: ModeQuote) -> str:
    assert best.cost is not None and base.cost is not None
    if best.mode == base.mode or not best.savings or best.savings <= 0:
        return f"{best.mode} is the cheapest mode ({usd(best.cost)})"
    up_to = "up to " if q.batch_wait == "worst" and best.mode == "batch" else ""
    wait = WAIT[q.batch_wait]  # both timed: the verdict weighs waits only then
    total = wait(best)
    extra_s = total - wait(base)
    text = f"{best.mode} saves {usd(best.savings)} ({best.savings_pct}%) against {base.mode}"
    if extra_s > 0 and best.savings_per_hour_waited is not None:
        # the break-even divides by the extra wait; name it when the baseline's own wait is
        # not negligible beside it
        waiting = (
            f"{up_to}{duration(total)} of waiting"
            if extra_s * 20 >= total * 19
            else f"{duration(extra_s)} more waiting ({up_to}{duration(total)} in all)"
        )
        text += (
            f" for {waiting}: worth it unless an hour of waiting costs you more than "
            f"{per_hour(best.savings_per_hour_waited)}"
        )
    else:
        text += " and takes no longer"
    return text

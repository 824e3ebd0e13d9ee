"""Changes made from a page: one tracker call in one transaction, its outcome shown after the rerun that follows, and
a confirmation asked first where a step cannot be undone.

The confirmation is kept in the session until it is answered or dismissed: the dialog runs again on every run while
the question is open, so the answer is read on whichever run it arrives (a click inside `st.dialog` reruns only the
dialog in the browser, the whole script under AppTest: both see the question)."""
from __future__ import annotations

import streamlit as st

from common.bilingual import BilingualError
from tracker.config import ConfigFileError

REFUSALS: tuple[type[BaseException], ...] = (BilingualError, ConfigFileError)
_FLASH, _QUESTION = "page_flash", "page_confirm"


def flash() -> None:
    """Show (once) the outcome of the last action."""
    for kind, text in st.session_state.pop(_FLASH, []):
        getattr(st, kind)(text)


def say(kind: str, text: str) -> None:
    st.session_state.setdefault(_FLASH, []).append((kind, text))


def unsay() -> None:
    """Take back the last message (when the caller shows something better in its place)."""
    if st.session_state.get(_FLASH):
        st.session_state[_FLASH].pop()


def run_step(step, done, refusals: tuple[type[BaseException], ...] = ()):
    """Run ``step(session)`` in one transaction. A refusal (a BilingualError such as AccessDenied, or one of
    ``refusals``) writes nothing and is shown in Chinese; returns None then, else the step's result (True for None).
    ``done`` is the success text, or makes it from the result; it may return ``(kind, text)`` instead (a step that
    commits but did not get its way, such as an approval refused at the ceiling, is shown as a warning or error)."""
    from views.common import session

    try:
        with session() as s:
            out = step(s)
    except REFUSALS + tuple(refusals) as exc:
        say("error", getattr(exc, "zh", None) or str(exc))
        return None
    message = done(out) if callable(done) else done
    say(*(message if isinstance(message, tuple) else ("success", message)))
    return out if out is not None else True


def confirm(text: str, step, done, refusals: tuple[type[BaseException], ...] = ()) -> None:
    """Ask "请确认" before ``run_step(step, done)``; call `open_question()` once near the end of the page."""
    st.session_state[_QUESTION] = (text, step, done, refusals)


def _dismiss() -> None:
    st.session_state.pop(_QUESTION, None)


@st.dialog("请确认", on_dismiss=_dismiss)
def _dialog() -> None:
    text, step, done, refusals = st.session_state[_QUESTION]
    st.write(text)
    left, right = st.columns(2)
    if left.button("确认", type="primary", key="dialog_ok"):
        _dismiss()
        run_step(step, done, refusals)
        st.rerun()
    if right.button("取消", key="dialog_cancel"):
        _dismiss()
        st.rerun()


def open_question() -> None:
    if _QUESTION in st.session_state:
        _dialog()

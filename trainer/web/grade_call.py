"""The Grade a real call tab: a transcript file or pasted text in, the same scorecard as practice out."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import gradio as gr

from trainer.grader.transcripts import REP_HINT, check_size
from trainer.web import views
from trainer.web.context import USER_ERRORS, WebContext

if TYPE_CHECKING:
    from trainer.web.server import Web


def upload(web: WebContext, file: str | None, pasted: str, rep: str, request: gr.Request):
    user = web.user(request)
    try:
        if file:
            check_size(Path(file).stat().st_size, Path(file).name)  # before reading it in
            text, name = Path(file).read_text(encoding="utf-8", errors="replace"), Path(file).name
        elif (pasted or "").strip():
            text, name = pasted, "pasted transcript"  # its size is checked where it is parsed
        else:
            raise gr.Error("Upload a transcript file or paste one first.")
        _, card = web.trainer.upload(user, text, name, rep=rep)
    except USER_ERRORS as exc:
        raise gr.Error(str(exc).replace(REP_HINT, "in “The rep's name in the transcript”")) from None
    return views.scorecard_html(card, "the customer")


def build(web: Web) -> None:
    """Lay out the tab and wire its event."""
    with gr.Tab("Grade a real call", id="upload", elem_id="tab-upload"):
        gr.Markdown(
            "Upload the transcript of a real call, as JSON "
            '(`{"turns": [{"speaker": "trainee", "text": "..."}]}`) '
            "or plain text with `Rep:` / `Customer:` prefixes, and get the same scorecard. "
            "A call export with people's names (`Dana Smith: …`, Zoom/Teams `.vtt`) works too: "
            "say which name is the rep."
        )
        with gr.Row():
            with gr.Column(scale=4):
                upload_file = gr.File(
                    label="Transcript file",
                    file_types=[".json", ".txt", ".md", ".vtt"],
                    type="filepath",
                )
                pasted = gr.Textbox(
                    label="…or paste it",
                    lines=8,
                    placeholder="Rep: Thanks for making time…\nCustomer: …",
                )
                rep_name = gr.Textbox(
                    label="The rep's name in the transcript",
                    placeholder="Only when speakers are named, e.g. Alex Kim",
                    elem_id="upload-rep",
                )
                grade = gr.Button("Score this call", variant="primary")
            with gr.Column(scale=6):
                upload_card = gr.HTML()

    grade.click(web.upload, [upload_file, pasted, rep_name], [upload_card], api_name="upload")

"""The Gradio web app: server, sign-in, one module per tab, streaming and views."""
